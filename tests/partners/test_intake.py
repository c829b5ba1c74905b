"""createOrderFromPartner: the partner's order under its own reference, idempotent, in scope."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from app.accounts.models import Role
from tests.factories import gid, issue_token, make_contact
from tests.partners.support import INTAKE, UPDATE_INTEGRATION, configure, order_input
from tests.support.api import gql, gql_errors

UPLINE = ["Snellader Service Haren", "Laadpunt Groningen", "Voltara Regio Noord", "Voltara Distribution B.V."]


@pytest.fixture
async def dealer(client, sessions, demo, admin_token):
    """The demo dealer (Sanne Bakker, of Snellader Service Haren) with its organisation configured."""
    contacts, tokens = demo
    integration = await configure(client, sessions, admin_token, contacts["Snellader Service Haren"])
    return contacts, tokens["dealer"], integration


async def intake(client, token, **overrides):
    return (await gql(client, INTAKE, {"input": order_input(**overrides)}, token=token))["createOrderFromPartner"]


async def counts(sessions) -> dict[str, int]:
    async with sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT (SELECT count(*) FROM sales_order) AS orders, (SELECT count(*) FROM contact) AS contacts, "
                    "(SELECT count(*) FROM line_item) AS lines, (SELECT count(*) FROM partner_order) AS refs"
                )
            )
        ).one()
    return dict(row._mapping)


async def test_a_partner_order_is_made_for_its_organisation_and_upline(client, sessions, dealer) -> None:
    contacts, token, integration = dealer
    assert integration["signingSecret"].startswith("whsec_")

    answer = await intake(client, token)

    assert answer["__typename"] == "PartnerOrderAccepted", answer
    assert answer["replayed"] is False and answer["customerCreated"] is True
    order = answer["order"]
    assert order["number"].startswith("CC-")
    assert [e["contact"]["displayName"] for e in order["channelChain"]] == UPLINE
    assert order["accountContact"]["id"] == gid("Contact", contacts["Snellader Service Haren"].id)
    assert order["endCustomer"]["displayName"] == "Fenna Kramer"
    assert [(line["description"], line["unitPrice"]) for line in order["lines"]] == [
        ("Wallbox 11 kW, 3-phase", "899.00"),
        ("Standard installation (up to 10 m)", "495.00"),
    ]
    assert order["partnerReference"] == {
        "partnerOrderReference": "ESS-1001",
        "poNumber": "PO-77",
        "dealerCode": "D-12",
        "lastKnownStatus": None,
        "lastSyncError": None,
    }
    async with sessions() as session:
        parent = await session.scalar(
            text("SELECT p.display_name FROM contact c JOIN contact p ON p.id = c.parent_organization_id "
                 "WHERE c.display_name = 'Fenna Kramer'")
        )  # fmt: skip
    assert parent == "Snellader Service Haren"


async def test_a_replay_returns_the_same_order_and_changes_nothing(client, sessions, dealer) -> None:
    _, token, _ = dealer
    first = await intake(client, token)
    before = await counts(sessions)

    again = await intake(client, token)

    assert again["__typename"] == "PartnerOrderAccepted" and again["replayed"] is True
    assert again["order"]["id"] == first["order"]["id"]
    assert await counts(sessions) == before


async def test_other_content_under_the_same_reference_is_a_conflict(client, sessions, dealer) -> None:
    _, token, _ = dealer
    first = await intake(client, token)
    before = await counts(sessions)

    answer = await intake(client, token, lines=[{"productCode": "WB11", "quantity": "2"}])

    assert answer["__typename"] == "IdempotencyConflict", answer
    assert answer["code"] == "IDEMPOTENCY_CONFLICT" and answer["field"] == "partnerOrderReference"
    assert answer["orderNumber"] == first["order"]["number"]
    assert await counts(sessions) == before


async def test_twenty_concurrent_replays_make_one_order(client, sessions, dealer) -> None:
    _, token, _ = dealer

    answers = await asyncio.gather(*(intake(client, token, reference="ESS-RACE") for _ in range(20)))

    assert {a["__typename"] for a in answers} == {"PartnerOrderAccepted"}
    assert len({a["order"]["id"] for a in answers}) == 1
    assert sorted(a["replayed"] for a in answers) == [False] + [True] * 19
    assert (await counts(sessions))["orders"] == 1
    assert (await counts(sessions))["refs"] == 1


async def test_unknown_product_codes_are_named_and_nothing_is_made(client, sessions, dealer) -> None:
    _, token, _ = dealer
    before = await counts(sessions)

    answer = await intake(
        client,
        token,
        lines=[{"productCode": "WB11", "quantity": "1"}, {"productCode": "ZZ-9", "quantity": "1"},
               {"productCode": "AA-1", "quantity": "1"}],
    )  # fmt: skip

    assert answer["__typename"] == "UnknownProductCodes"
    assert answer["codes"] == ["AA-1", "ZZ-9"] and answer["code"] == "UNKNOWN_PRODUCT_CODES"
    assert await counts(sessions) == before


async def test_an_organisation_without_a_configuration_or_an_inactive_one_is_refused(
    client, sessions, dealer, admin_token
) -> None:
    contacts, token, integration = dealer
    other = await issue_token(sessions, Role.PARTNER, contact_id=contacts["Voltara Regio Zuid"].id)
    assert (await intake(client, other))["__typename"] == "PartnerNotConfigured"

    await gql(
        client,
        UPDATE_INTEGRATION,
        {"input": {"id": integration["integration"]["id"], "active": False}},
        token=admin_token,
    )
    before = await counts(sessions)
    answer = await intake(client, token)
    assert answer["__typename"] == "PartnerInactive" and answer["code"] == "PARTNER_INACTIVE"
    assert await counts(sessions) == before


async def test_test_mode_says_what_it_would_do_and_creates_nothing(client, sessions, dealer, admin_token) -> None:
    _, token, integration = dealer
    await gql(
        client,
        UPDATE_INTEGRATION,
        {"input": {"id": integration["integration"]["id"], "testMode": True}},
        token=admin_token,
    )
    before = await counts(sessions)

    answer = await intake(client, token)

    assert answer["__typename"] == "PartnerOrderPreview", answer
    assert answer["customer"] is None and answer["replayOf"] is None
    assert [c["displayName"] for c in answer["channel"]] == UPLINE
    assert [(line["productCode"], line["unitPrice"]) for line in answer["lines"]] == [
        ("WB11", "899.00"),
        ("INST", "495.00"),
    ]
    assert await counts(sessions) == before


async def test_the_customer_is_found_in_scope_and_never_outside_it(client, sessions, dealer) -> None:
    contacts, token, _ = dealer
    # the same e-mail address on a person outside the dealer's scope: never attached, never told
    stranger = await make_contact(sessions, "Fenna K. (elsewhere)", person=True)
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE contact SET email = 'fenna.kramer@example.nl' WHERE id = :id"), {"id": stranger.id}
        )
    first = await intake(client, token, reference="ESS-1")
    assert first["customerCreated"] is True
    assert first["order"]["endCustomer"]["id"] != gid("Contact", stranger.id)

    # the customer it made is in its scope now: found by e-mail, then by postcode and house number
    by_email = await intake(client, token, reference="ESS-2")
    assert by_email["customerCreated"] is False
    assert by_email["order"]["endCustomer"]["id"] == first["order"]["endCustomer"]["id"]
    by_address = await intake(
        client,
        token,
        reference="ESS-3",
        customer={"name": "F. Kramer", "postalCode": "9711ab", "houseNumber": "12"},
    )
    assert by_address["customerCreated"] is False
    assert by_address["order"]["endCustomer"]["id"] == first["order"]["endCustomer"]["id"]


async def test_only_a_partner_token_sends_partner_orders(client, dealer, admin_token) -> None:
    errors = await gql_errors(client, INTAKE, {"input": order_input()}, token=admin_token)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
