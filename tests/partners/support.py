"""Partner integration in tests: a configuration made through the API, intake requests."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import brand_id, gid
from tests.support.api import gql

CREATE_INTEGRATION = """
mutation ($input: CreatePartnerIntegrationInput!) {
  createPartnerIntegration(input: $input) {
    __typename
    ... on PartnerIntegrationWithSecret { signingSecret integration { id active testMode events } }
    ... on UserError { code message field }
  }
}"""

UPDATE_INTEGRATION = """
mutation ($input: UpdatePartnerIntegrationInput!) {
  updatePartnerIntegration(input: $input) {
    __typename
    ... on PartnerIntegrationSuccess { integration { id active testMode webhookUrl } }
    ... on UserError { code message field }
  }
}"""

INTAKE = """
mutation ($input: CreateOrderFromPartnerInput!) {
  createOrderFromPartner(input: $input) {
    __typename
    ... on PartnerOrderAccepted {
      replayed customerCreated
      order {
        id number status { name }
        accountContact { id }
        endCustomer { id displayName }
        channelChain { position contact { id displayName } }
        lines { description quantity unitPrice }
        partnerReference { partnerOrderReference poNumber dealerCode lastKnownStatus lastSyncError }
      }
    }
    ... on PartnerOrderPreview {
      customer { id }
      channel { displayName }
      lines { productCode description quantity unitPrice }
      replayOf { id }
    }
    ... on UnknownProductCodes { codes }
    ... on IdempotencyConflict { orderNumber }
    ... on UserError { code message field }
  }
}"""


async def article_ids(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Two articles of the CC brand (the demo loaded without orders has no catalogue)."""
    async with sessions() as session, session.begin():
        rows = await session.execute(
            text(
                "INSERT INTO article (business_entity_id, sku, name, unit_price, vat_rate) "
                "SELECT b.id, a.sku, a.name, a.price, 21 FROM business_entity b, (VALUES "
                "('CC-WB11', 'Wallbox 11 kW, 3-phase', 899.00), "
                "('CC-INST-STD', 'Standard installation (up to 10 m)', 495.00)) AS a(sku, name, price) "
                "WHERE b.code = 'CC' RETURNING sku, id"
            )
        )
        return {row.sku: row.id for row in rows}


async def configure(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    token: str,
    organization: Any,
    **overrides: Any,
) -> dict[str, Any]:
    """A configuration for `organisation` ordering for CC with codes WB11 and INST."""
    articles = await article_ids(sessions)
    variables = {
        "input": {
            "organizationId": gid("Contact", organization.id),
            "businessEntityId": gid("BusinessEntity", await brand_id(sessions, "CC")),
            "products": [
                {"code": "WB11", "articleId": gid("Article", articles["CC-WB11"])},
                {"code": "INST", "articleId": gid("Article", articles["CC-INST-STD"])},
            ],
            "statusMapping": [{"status": "quoted", "partnerStatus": "OFFERTE"}],
            **overrides,
        }
    }
    answer = (await gql(client, CREATE_INTEGRATION, variables, token=token))["createPartnerIntegration"]
    assert answer["__typename"] == "PartnerIntegrationWithSecret", answer
    return answer


def order_input(reference: str = "ESS-1001", **overrides: Any) -> dict[str, Any]:
    return {
        "partnerOrderReference": reference,
        "poNumber": "PO-77",
        "dealerCode": "D-12",
        "customer": {
            "name": "Fenna Kramer",
            "email": "fenna.kramer@example.nl",
            "postalCode": "9711 AB",
            "houseNumber": "12",
            "street": "Oude Ebbingestraat",
            "city": "Groningen",
            "countryCode": "NL",
        },
        "lines": [{"productCode": "WB11", "quantity": "1"}, {"productCode": "INST", "quantity": "1"}],
        **overrides,
    }
