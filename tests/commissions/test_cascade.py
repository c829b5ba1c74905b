"""The commission cascade: created at the flagged step, rates inherited, recalculated while
pending, frozen once approved, cancelled with the order; statuses through the engine."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from app.accounts.models import Role
from tests.factories import gid, issue_token, make_contact
from tests.support.api import CHANGE, add_line, change, gql, gql_errors, walk

COMMISSIONS = """
query ($id: ID!) {
  order(id: $id) {
    totals { commissionableNet }
    commissions {
      id level rate baseAmount amount currency
      beneficiary { displayName }
      status { name }
      statusHistory { nodes { fromStatus toStatus triggeredBy } }
    }
  }
}
"""
WALK_TO_COMPLETED = ("quoted", "accepted", "scheduled", "installing", "installed", "invoiced", "completed")


async def commissions_of(client, token, order_id):
    return (await gql(client, COMMISSIONS, {"id": order_id}, token=token))["order"]


async def change_commission(client, token, commission_id, to_status):
    variables = {"input": {"entityType": "PARTNER_COMMISSION", "entityId": commission_id, "toStatus": to_status}}
    return (await gql(client, CHANGE, variables, token=token))["changeStatus"]


@pytest.fixture
async def finance_token(sessions) -> str:
    return await issue_token(sessions, Role.FINANCE)


async def test_completion_creates_one_commission_per_level_with_inherited_rates(
    client, demo, chain, create_order, sessions
) -> None:
    contacts, tokens = demo
    admin = tokens["admin"]
    # a partner with no rate anywhere above it earns nothing; an explicit 0 stops the inheritance
    no_rate = await make_contact(sessions, "Independent Installer")
    zero = await make_contact(sessions, "Zero Agreement", parent_id=contacts["Voltara Regio Noord"].id, rate=Decimal(0))
    channel = [*chain, no_rate, zero]
    order = (await create_order(admin, account=chain[0], end_customer=contacts["Eva de Vries"], channel=channel))[
        "order"
    ]
    await add_line(client, admin, order["id"], "1000.00")
    await add_line(client, admin, order["id"], "333.33")
    await add_line(client, admin, order["id"], "250.00", commissionable=False)
    await walk(client, admin, order["id"], WALK_TO_COMPLETED[:-1])
    assert (await commissions_of(client, admin, order["id"]))["commissions"] == []  # not before completion

    await change(client, admin, order["id"], "completed")
    result = await commissions_of(client, admin, order["id"])
    assert result["totals"]["commissionableNet"] == "1333.33"
    assert [
        (c["level"], c["beneficiary"]["displayName"], c["rate"], c["baseAmount"], c["amount"])
        for c in result["commissions"]
    ] == [
        (1, "Agent Jansen Verkoop", "0.0400", "1333.33", "53.33"),  # own rate
        (2, "Snellader Service Haren", "0.0500", "1333.33", "66.67"),  # 66.6665 half-up; inherited
        (3, "Laadpunt Groningen", "0.0500", "1333.33", "66.67"),
        (4, "Voltara Regio Noord", "0.0300", "1333.33", "40.00"),
        (5, "Voltara Distribution B.V.", "0.0200", "1333.33", "26.67"),
    ]
    assert {c["currency"] for c in result["commissions"]} == {"EUR"}
    first = result["commissions"][0]
    assert first["status"]["name"] == "pending"
    assert [(h["fromStatus"], h["toStatus"]) for h in first["statusHistory"]["nodes"]] == [(None, "pending")]


async def test_an_order_without_channel_or_before_the_step_has_none(client, demo, create_order) -> None:
    contacts, tokens = demo
    order = (await create_order(tokens["admin"], account=contacts["Groendus"]))["order"]
    await add_line(client, tokens["admin"], order["id"], "100.00")
    await walk(client, tokens["admin"], order["id"], WALK_TO_COMPLETED)
    assert (await commissions_of(client, tokens["admin"], order["id"]))["commissions"] == []


@pytest.fixture
async def commissions_at_installed(sessions):
    """A workflow that creates commissions before the lines lock (`installed`), so that the
    recalculation and the cancellation can happen; restored afterwards (reference data)."""
    flip = (
        "UPDATE status_workflow_step s SET creates_commissions = (s.status_name = :step) FROM status_workflow w "
        "WHERE w.id = s.workflow_id AND w.is_default AND w.entity_type = 'order'"
    )
    async with sessions() as session, session.begin():
        await session.execute(text(flip), {"step": "installed"})
    yield
    async with sessions() as session, session.begin():
        await session.execute(text(flip), {"step": "completed"})


async def test_pending_follows_the_lines_approved_is_frozen_cancelled_with_the_order(
    client, demo, chain, create_order, finance_token, commissions_at_installed, session
) -> None:
    contacts, tokens = demo
    admin = tokens["admin"]
    order = (await create_order(admin, account=chain[0], channel=chain[:3]))["order"]
    await add_line(client, admin, order["id"], "1000.00")
    for status in WALK_TO_COMPLETED[:5]:
        await change(client, admin, order["id"], status)
    levels = (await commissions_of(client, admin, order["id"]))["commissions"]
    assert [c["amount"] for c in levels] == ["40.00", "50.00", "50.00"]

    # pending: follows a line change
    await add_line(client, admin, order["id"], "500.00")
    levels = (await commissions_of(client, admin, order["id"]))["commissions"]
    assert [(c["baseAmount"], c["amount"]) for c in levels] == [
        ("1500.00", "60.00"),
        ("1500.00", "75.00"),
        ("1500.00", "75.00"),
    ]

    # approved (finance) is frozen; level 1 is paid, level 3 stays pending
    assert (await change_commission(client, finance_token, levels[0]["id"], "approved"))[
        "__typename"
    ] == "ChangeStatusSuccess"
    assert (await change_commission(client, finance_token, levels[0]["id"], "paid"))[
        "__typename"
    ] == "ChangeStatusSuccess"
    assert (await change_commission(client, finance_token, levels[1]["id"], "approved"))[
        "__typename"
    ] == "ChangeStatusSuccess"
    await add_line(client, admin, order["id"], "100.00", commissionable=False)  # base unchanged: nothing written
    await add_line(client, admin, order["id"], "500.00")
    levels = (await commissions_of(client, admin, order["id"]))["commissions"]
    assert [(c["status"]["name"], c["baseAmount"], c["amount"]) for c in levels] == [
        ("paid", "1500.00", "60.00"),
        ("approved", "1500.00", "75.00"),
        ("pending", "2000.00", "100.00"),
    ]
    recalculations = (
        await session.execute(text("SELECT count(*) FROM audit_log WHERE action = 'partner_commission.recalculate'"))
    ).scalar_one()
    assert recalculations == 3 + 1

    # back and forth past the creating step: no second set
    await change(client, admin, order["id"], "installing")
    await change(client, admin, order["id"], "installed")
    assert len((await commissions_of(client, admin, order["id"]))["commissions"]) == 3

    # the order is cancelled before payout: what is not paid is cancelled, by the cascade
    for status in ("installing", "scheduled", "cancelled"):
        await change(client, admin, order["id"], status)
    levels = (await commissions_of(client, admin, order["id"]))["commissions"]
    assert [c["status"]["name"] for c in levels] == ["paid", "cancelled", "cancelled"]
    latest = levels[1]["statusHistory"]["nodes"][0]
    assert (latest["fromStatus"], latest["toStatus"]) == ("approved", "cancelled")
    system = (
        await session.execute(
            text(
                "SELECT DISTINCT triggered_by_system FROM status_transition WHERE entity_type = 'partner_commission' "
                "AND to_status = 'cancelled'"
            )
        )
    ).scalar_one()
    assert system == "commission-cascade"


async def test_approval_and_payment_need_finance(client, demo, chain, create_order, sessions) -> None:
    contacts, tokens = demo
    admin = tokens["admin"]
    order = (await create_order(admin, account=chain[0], channel=chain[:1]))["order"]
    await add_line(client, admin, order["id"], "100.00")
    await walk(client, admin, order["id"], WALK_TO_COMPLETED)
    [commission] = (await commissions_of(client, admin, order["id"]))["commissions"]
    staff = await issue_token(sessions, Role.STAFF)
    refused = await change_commission(client, staff, commission["id"], "approved")
    assert (refused["__typename"], refused["role"]) == ("ApprovalRequired", "finance")
    errors = await gql_errors(
        client,
        CHANGE,
        {"input": {"entityType": "PARTNER_COMMISSION", "entityId": commission["id"], "toStatus": "approved"}},
        token=tokens["partner"],
    )
    assert errors[0].get("extensions", {}).get("code") == "FORBIDDEN", errors
    # a frozen commission cannot go back to pending
    finance = await issue_token(sessions, Role.FINANCE)
    await change_commission(client, finance, commission["id"], "approved")
    back = await change_commission(client, finance, commission["id"], "pending")
    assert (back["__typename"], back["allowed"]) == ("InvalidStatusTransition", ["paid", "cancelled"])
    # an order id is not a commission id
    wrong = await change_commission(client, finance, order["id"], "approved")
    assert wrong["__typename"] == "ValidationError"


OVERVIEW = """
query ($period: PeriodInput, $status: [String!]) {
  commissionOverview(period: $period, status: $status) {
    count total currency
    beneficiaries(first: 10) { totalCount nodes { count total beneficiary { displayName } } }
  }
}
"""
CONTACT_COMMISSIONS = """
query ($id: ID!, $period: PeriodInput, $status: [String!]) {
  node(id: $id) { ... on Contact { commissions(period: $period, status: $status) { totalCount nodes { amount level }
  } } }
}
"""


async def test_overview_and_contact_commissions_by_period_and_status(
    client, demo, chain, create_order, session
) -> None:
    contacts, tokens = demo
    admin = tokens["admin"]
    for price in ("1000.00", "2000.00"):
        order = (await create_order(admin, account=chain[0], channel=chain[2:4]))["order"]
        await add_line(client, admin, order["id"], price)
        await walk(client, admin, order["id"], WALK_TO_COMPLETED)
    # move one commission into last month (earned then)
    await session.execute(
        text(
            "UPDATE partner_commission SET created_at = created_at - interval '40 days' "
            "WHERE base_amount = 1000 AND level = 1"
        )
    )
    await session.commit()
    today = (await session.execute(text("SELECT (now() AT TIME ZONE 'Europe/Amsterdam')::date"))).scalar_one()
    period = {"from": today.isoformat(), "to": today.isoformat()}

    everything = (await gql(client, OVERVIEW, {}, token=admin))["commissionOverview"]
    assert (everything["count"], everything["total"], everything["currency"]) == (4, "240.00", "EUR")
    assert [
        (b["beneficiary"]["displayName"], b["count"], b["total"]) for b in everything["beneficiaries"]["nodes"]
    ] == [("Laadpunt Groningen", 2, "150.00"), ("Voltara Regio Noord", 2, "90.00")]
    this_period = (await gql(client, OVERVIEW, {"period": period}, token=admin))["commissionOverview"]
    assert (this_period["count"], this_period["total"]) == (3, "190.00")
    pending = (await gql(client, OVERVIEW, {"status": ["approved"]}, token=admin))["commissionOverview"]
    assert (pending["count"], pending["total"], pending["beneficiaries"]["totalCount"]) == (0, "0.00", 0)

    laadpunt = gid("Contact", contacts["Laadpunt Groningen"].id)
    mine = (await gql(client, CONTACT_COMMISSIONS, {"id": laadpunt, "period": period}, token=admin))["node"]
    assert mine["commissions"]["totalCount"] == 1 and mine["commissions"]["nodes"][0]["amount"] == "100.00"
    # the Laadpunt dealer below sees nothing of its upline, the top partner sees both levels
    dealer = (await gql(client, OVERVIEW, {}, token=tokens["dealer"]))["commissionOverview"]
    assert (dealer["count"], dealer["total"]) == (0, "0.00")
    top = (await gql(client, OVERVIEW, {}, token=tokens["partner"]))["commissionOverview"]
    assert (top["count"], top["total"]) == (4, "240.00")

    errors = await gql_errors(client, OVERVIEW, {"period": {"from": "2026-02-01", "to": "2026-01-01"}}, token=admin)
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT" and "period" in errors[0]["message"]
