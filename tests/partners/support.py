"""Partner integration in tests: a configuration made through the API, intake requests, a worker
in the test's process or in processes of their own, waiting for the deliveries to settle."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.jobs.worker import work
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


# --- workers --------------------------------------------------------------------------------------

FAST = {
    "webhook_retry_delays": (0.2,) * 7,
    "webhook_timeout_seconds": 1.0,
    "job_heartbeat_seconds": 2.0,
    "job_poll_seconds": 0.2,
}
"""Retries, timeouts and heartbeats in fractions of seconds instead of minutes."""


def fast_env(**overrides: Any) -> dict[str, str]:
    """FAST (and `overrides`) as the environment of a `chargecars worker` process."""
    values = {**FAST, **overrides}
    return {
        f"CHARGECARS_{name.upper()}": ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        for name, value in values.items()
    } | {"CHARGECARS_LOG_LEVEL": "warning"}


@asynccontextmanager
async def worker(database_url: URL, settings: Settings, **overrides: Any) -> AsyncIterator[None]:
    """A worker in this process (FAST unless `overrides` say otherwise) until the block ends."""
    stop = asyncio.Event()
    task = asyncio.create_task(work(database_url, dataclasses.replace(settings, **{**FAST, **overrides}), stop=stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def until(condition: Callable[[], Any], within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


async def all_settled(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Every outbox event dispatched and every delivery delivered or dead."""
    async with sessions() as session:
        waiting = await session.scalar(
            text("SELECT count(*) FROM webhook_delivery WHERE status NOT IN ('delivered', 'dead')")
        )
        undispatched = await session.scalar(text("SELECT count(*) FROM outbox_event WHERE dispatched_at IS NULL"))
    return waiting == 0 and undispatched == 0
