"""The status engine through `changeStatus`: workflow rules, approval, conflicts, history, holds."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.accounts.models import Role
from tests.factories import issue_token
from tests.support.api import CHANGE, HOLD, RESUME, add_line, bill, change, gql, gql_errors

ORDER = """
query ($id: ID!) {
  order(id: $id) {
    number
    status { name label color since slaDeadline isOverdue }
    statusHistory(first: 50) { totalCount nodes { fromStatus toStatus movement reason triggeredBy } }
    allowedTransitions { statusName }
    holds { reasonCategory statusBefore isActive }
  }
}
"""


@pytest.fixture
async def order_id(create_order, demo) -> str:
    contacts, tokens = demo
    return (await create_order(tokens["admin"], account=contacts["Groendus"]))["order"]["id"]


async def test_a_new_order_starts_in_intake(client, demo, order_id) -> None:
    _, tokens = demo
    order = (await gql(client, ORDER, {"id": order_id}, token=tokens["admin"]))["order"]
    assert order["status"]["name"] == "intake"
    assert order["status"]["label"] == "Intake" and order["status"]["color"] == "#6B7280"
    assert order["status"]["slaDeadline"] is not None and order["status"]["isOverdue"] is False
    assert [(h["fromStatus"], h["toStatus"], h["movement"]) for h in order["statusHistory"]["nodes"]] == [
        (None, "intake", "INITIAL")
    ]
    assert [s["statusName"] for s in order["allowedTransitions"]] == ["quoted", "cancelled"]


async def test_movements_history_and_cache(client, demo, order_id, session) -> None:
    _, tokens = demo
    admin = tokens["admin"]
    moves = [
        ("quoted", "FORWARD"),
        ("intake", "RESTART"),
        ("quoted", "FORWARD"),
        ("accepted", "FORWARD"),
        ("quoted", "BACKWARD"),
        ("accepted", "FORWARD"),
        ("scheduled", "FORWARD"),
    ]
    for to_status, movement in moves:
        result = await change(client, admin, order_id, to_status, reason=f"to {to_status}")
        assert result["__typename"] == "ChangeStatusSuccess", result
        assert result["transition"]["movement"] == movement
    order = (await gql(client, ORDER, {"id": order_id}, token=admin))["order"]
    history = order["statusHistory"]["nodes"]
    assert [h["toStatus"] for h in history] == [
        "scheduled",
        "accepted",
        "quoted",
        "accepted",
        "quoted",
        "intake",
        "quoted",
        "intake",
    ]
    assert history[0]["reason"] == "to scheduled" and history[0]["triggeredBy"] == "ChargeCars Admin"
    assert order["status"]["name"] == "scheduled"
    row = (
        await session.execute(
            text(
                "SELECT c.status, c.last_transition_id = t.id AS is_last, o.status AS own FROM entity_current_status c "
                "JOIN sales_order o ON o.id = c.entity_id "
                "JOIN LATERAL (SELECT id FROM status_transition WHERE entity_id = c.entity_id ORDER BY "
                "created_at DESC LIMIT 1) t ON true"
            )
        )
    ).one()
    assert (row.status, row.is_last, row.own) == ("scheduled", True, "scheduled")
    audit = (await session.execute(text("SELECT count(*) FROM audit_log WHERE action = 'status.change'"))).scalar_one()
    assert audit == len(moves) + 1


async def test_invalid_transitions_are_refused_with_the_allowed_list(client, demo, order_id, session) -> None:
    _, tokens = demo
    for target in ("installed", "completed", "nonsense", "intake"):
        result = await change(client, tokens["admin"], order_id, target)
        assert result["__typename"] == "InvalidStatusTransition"
        assert result["fromStatus"] == "intake" and result["toStatus"] == target
        assert result["allowed"] == ["quoted", "cancelled"]
    transitions = (await session.execute(text("SELECT count(*) FROM status_transition"))).scalar_one()
    assert transitions == 1


async def test_a_final_status_accepts_nothing(client, demo, order_id) -> None:
    _, tokens = demo
    assert (await change(client, tokens["admin"], order_id, "cancelled"))["transition"]["movement"] == "EXIT"
    for target in ("intake", "quoted", "cancelled"):
        result = await change(client, tokens["admin"], order_id, target)
        assert (result["__typename"], result["status"]) == ("FinalStatus", "cancelled")
    order = (await gql(client, ORDER, {"id": order_id}, token=tokens["admin"]))["order"]
    assert order["allowedTransitions"] == []


async def test_a_step_that_requires_approval_refuses_a_viewer_without_the_role(
    client, demo, sessions, order_id
) -> None:
    _, tokens = demo
    staff = await issue_token(sessions, Role.STAFF)
    finance = await issue_token(sessions, Role.FINANCE)
    await add_line(client, tokens["admin"], order_id)
    for target in ("quoted", "accepted", "scheduled", "installing", "installed"):
        assert (await change(client, staff, order_id, target))["__typename"] == "ChangeStatusSuccess"
    await bill(client, tokens["admin"], order_id)
    assert (await change(client, staff, order_id, "invoiced"))["__typename"] == "ChangeStatusSuccess"
    order = (await gql(client, ORDER, {"id": order_id}, token=staff))["order"]
    assert order["allowedTransitions"] == []  # `completed` needs finance
    refused = await change(client, staff, order_id, "completed")
    assert (refused["__typename"], refused["role"], refused["code"]) == (
        "ApprovalRequired",
        "finance",
        "APPROVAL_REQUIRED",
    )
    order = (await gql(client, ORDER, {"id": order_id}, token=finance))["order"]
    assert [s["statusName"] for s in order["allowedTransitions"]] == ["completed"]
    done = await change(client, finance, order_id, "completed")
    assert done["__typename"] == "ChangeStatusSuccess" and done["transition"]["isMilestone"] is True


async def test_stale_expected_status_is_a_conflict(client, demo, order_id) -> None:
    _, tokens = demo
    ok = await change(client, tokens["admin"], order_id, "quoted", expectedStatus="intake")
    assert ok["__typename"] == "ChangeStatusSuccess"
    stale = await change(client, tokens["admin"], order_id, "accepted", expectedStatus="intake")
    assert (stale["__typename"], stale["expected"], stale["actual"]) == ("StatusConflict", "intake", "quoted")


async def test_50_concurrent_changes_with_the_same_expected_status(client, demo, order_id, session) -> None:
    _, tokens = demo
    results = await asyncio.gather(
        *(change(client, tokens["admin"], order_id, "quoted", expectedStatus="intake") for _ in range(50))
    )
    kinds = sorted(r["__typename"] for r in results)
    assert kinds == ["ChangeStatusSuccess"] + ["StatusConflict"] * 49
    assert all(r["actual"] == "quoted" for r in results if r["__typename"] == "StatusConflict")
    rows = (
        await session.execute(text("SELECT from_status, to_status FROM status_transition ORDER BY created_at"))
    ).all()
    assert [tuple(r) for r in rows] == [(None, "intake"), ("intake", "quoted")]
    cache = (
        await session.execute(
            text(
                "SELECT c.status, c.last_transition_id = (SELECT id FROM status_transition ORDER BY created_at "
                "DESC LIMIT 1) "
                "FROM entity_current_status c"
            )
        )
    ).one()
    assert tuple(cache) == ("quoted", True)


async def test_transitions_are_append_only(order_id, sessions) -> None:
    for statement in (
        "UPDATE status_transition SET reason = 'rewritten'",
        "DELETE FROM status_transition",
        "DELETE FROM audit_log",
    ):
        async with sessions() as s:
            with pytest.raises(DBAPIError, match="append-only"):
                await s.execute(text(statement))


async def test_only_staff_change_statuses(client, demo, order_id) -> None:
    _, tokens = demo
    variables = {"input": {"entityType": "ORDER", "entityId": order_id, "toStatus": "quoted"}}
    errors = await gql_errors(client, CHANGE, variables, token=tokens["partner"])
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_unknown_orders_and_wrong_ids(client, demo) -> None:
    _, tokens = demo
    import uuid

    from tests.factories import gid

    missing = await change(client, tokens["admin"], gid("Order", uuid.uuid4()), "quoted")
    assert (missing["__typename"], missing["field"]) == ("NotFound", "entityId")
    wrong = await change(client, tokens["admin"], gid("Contact", uuid.uuid4()), "quoted")
    assert (wrong["__typename"], wrong["field"]) == ("ValidationError", "entityId")
    # an entity type without a status is not in the schema's enum: refused before anything runs
    errors = await gql_errors(
        client,
        CHANGE,
        {"input": {"entityType": "INSTALLATION", "entityId": gid("Order", uuid.uuid4()), "toStatus": "x"}},
        token=tokens["admin"],
    )
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT" and "INSTALLATION" in errors[0]["message"]
    # an entity type with a status, and the id of another type
    mixed = (
        await gql(
            client,
            CHANGE,
            {"input": {"entityType": "QUOTE", "entityId": gid("Order", uuid.uuid4()), "toStatus": "sent"}},
            token=tokens["admin"],
        )
    )["changeStatus"]
    assert (mixed["__typename"], mixed["field"]) == ("ValidationError", "entityId")


async def test_hold_and_resume_return_to_the_status_it_had(client, demo, order_id) -> None:
    _, tokens = demo
    admin = tokens["admin"]
    await change(client, admin, order_id, "quoted")
    await change(client, admin, order_id, "accepted")
    held = (
        await gql(
            client,
            HOLD,
            {
                "input": {
                    "orderId": order_id,
                    "reasonCategory": "AWAITING_PERMIT",
                    "details": "municipality",
                    "notifyCustomer": True,
                }
            },
            token=admin,
        )
    )["placeOrderOnHold"]
    assert held["order"]["status"]["name"] == "on_hold"
    assert held["hold"] == {"statusBefore": "accepted", "isActive": True}
    again = await gql(client, HOLD, {"input": {"orderId": order_id, "reasonCategory": "OTHER"}}, token=admin)
    assert again["placeOrderOnHold"]["__typename"] == "AlreadyOnHold"
    blocked = await change(client, admin, order_id, "scheduled")
    assert blocked["__typename"] == "InvalidStatusTransition" and blocked["allowed"] == []

    resumed = (await gql(client, RESUME, {"input": {"orderId": order_id}}, token=admin))["resumeOrder"]
    assert resumed["order"]["status"]["name"] == "accepted"
    assert resumed["hold"]["isActive"] is False and resumed["hold"]["resumedAt"] is not None
    not_held = (await gql(client, RESUME, {"input": {"orderId": order_id}}, token=admin))["resumeOrder"]
    assert not_held["__typename"] == "NotOnHold"

    order = (await gql(client, ORDER, {"id": order_id}, token=admin))["order"]
    history = [(h["fromStatus"], h["toStatus"], h["movement"]) for h in order["statusHistory"]["nodes"]]
    assert history[:2] == [("on_hold", "accepted", "RESUME"), ("accepted", "on_hold", "HOLD")]
    assert order["holds"] == [{"reasonCategory": "AWAITING_PERMIT", "statusBefore": "accepted", "isActive": False}]


async def test_a_final_order_cannot_be_put_on_hold(client, demo, order_id) -> None:
    _, tokens = demo
    await change(client, tokens["admin"], order_id, "cancelled")
    result = await gql(client, HOLD, {"input": {"orderId": order_id, "reasonCategory": "OTHER"}}, token=tokens["admin"])
    assert result["placeOrderOnHold"]["__typename"] == "FinalStatus"


async def test_hold_dates_in_the_past_are_refused(client, demo, order_id) -> None:
    _, tokens = demo
    result = await gql(
        client,
        HOLD,
        {"input": {"orderId": order_id, "reasonCategory": "OTHER", "escalationDate": "2020-01-01"}},
        token=tokens["admin"],
    )
    assert result["placeOrderOnHold"]["__typename"] == "ValidationError"


async def test_workflows_for_analysts(client, demo) -> None:
    _, tokens = demo
    data = await gql(
        client,
        "{ workflows(entityType: ORDER) { name isDefault businessEntity { code } steps { statusName stepType } } }",
        token=tokens["admin"],
    )
    by_name = {w["name"]: w for w in data["workflows"]}
    install = by_name["Installation project"]
    assert install["isDefault"] and install["businessEntity"] is None
    assert [s["statusName"] for s in install["steps"]] == [
        "intake",
        "quoted",
        "accepted",
        "scheduled",
        "installing",
        "installed",
        "invoiced",
        "completed",
        "cancelled",
        "on_hold",
    ]
    assert by_name["Web shop order (Zaptec Shop)"]["businessEntity"] == {"code": "ZS"}


async def test_shop_orders_follow_the_shop_flow(client, create_order, demo) -> None:
    contacts, tokens = demo
    created = await create_order(tokens["admin"], brand="ZS", account=contacts["50five"])
    assert created["order"]["status"]["name"] == "new"
    assert created["order"]["number"].startswith("ZS-")


async def test_a_transitions_business_context_comes_back_as_it_was_given(client, demo, order_id) -> None:
    """The context travels as JSON text and is parsed only when asked for; an integer beyond what
    orjson encodes (64 bits) still comes back, through the standard encoder."""
    _, tokens = demo
    context = {"reference": "PO-7", "lines": [1, 2.5, None], "nested": {"ok": True}, "big": 10**30}
    done = await gql(
        client,
        """mutation ($input: ChangeStatusInput!) { changeStatus(input: $input) {
        ... on ChangeStatusSuccess { transition { toStatus businessContext } } } }""",
        {"input": {"entityType": "ORDER", "entityId": order_id, "toStatus": "quoted", "businessContext": context}},
        token=tokens["admin"],
    )
    assert done["changeStatus"]["transition"] == {"toStatus": "quoted", "businessContext": context}
    read = await gql(
        client,
        "query ($id: ID!) { order(id: $id) { statusHistory(first: 5) { nodes { toStatus businessContext } } } }",
        {"id": order_id},
        token=tokens["admin"],
    )
    assert read["order"]["statusHistory"]["nodes"][0] == {"toStatus": "quoted", "businessContext": context}
