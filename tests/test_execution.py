"""The executor's short way (graphql_schema/execution.py) answers exactly as graphql-core's usual
way: the same data and the same errors, for resolvers with arguments too (coerced once per
selection, from literals and variables, under aliases)."""

from __future__ import annotations

from typing import Any

import pytest

from graphql_schema import execution
from tests.support.api import change, post

# One root per document: when a non-null field's error nulls the whole answer, graphql-core
# answers with the errors raised so far, and which of two roots got there first is a matter of timing.
ONE = """
query ($id: ID!, $two: Int, $after: String, $bad: Int) { order(id: $id) { ...Histories } }
"""
LIST = """
query ($two: Int, $after: String, $bad: Int) { orders(first: 5) { nodes { ...Histories } } }
"""
HISTORIES = """
fragment Histories on Order {
  number
  all: statusHistory { totalCount nodes { toStatus movement } pageInfo { hasNextPage endCursor } }
  one: statusHistory(first: 1) { nodes { toStatus } }
  two: statusHistory(first: $two) { nodes { toStatus } pageInfo { hasNextPage } }
  later: statusHistory(first: 2, after: $after) { nodes { toStatus } }
  last: statusHistory(last: 1) { nodes { toStatus } }
  bad: statusHistory(first: $bad) { totalCount }
  workOrders { tasks { done } }
  holds { isActive }
}
"""


async def _answer(client, token: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The answers of the one-order root and of the list root, merged: data by root, errors in turn."""
    merged: dict[str, Any] = {"data": {}, "errors": []}
    for document in (ONE, LIST):
        response = await post(client, document + HISTORIES, variables, token=token)
        body = response.json()
        merged["status"] = response.status_code
        merged["data"].update(body["data"] or {"null": document})
        merged["errors"].extend(body.get("errors", []))
    return merged


@pytest.fixture
def usual_way(monkeypatch):
    """Every field the usual way: no plan for any field."""

    def switch() -> None:
        monkeypatch.setattr(execution, "_make_plan", lambda parent, field: None)
        monkeypatch.setattr(execution, "_plans", {})

    return switch


async def test_the_short_way_answers_as_the_usual_way(client, demo, create_order, usual_way) -> None:
    contacts, tokens = demo
    admin = tokens["admin"]
    order_id = (await create_order(admin, account=contacts["Groendus"]))["order"]["id"]
    for to_status in ("quoted", "intake", "quoted", "accepted"):
        assert (await change(client, admin, order_id, to_status))["__typename"] == "ChangeStatusSuccess"
    cursor = (await _answer(client, admin, {"id": order_id}))["data"]["order"]["all"]["pageInfo"]["endCursor"]
    assert cursor is not None
    variable_sets = [
        {"id": order_id, "two": 2, "after": cursor, "bad": 5},
        {"id": order_id, "two": 3, "after": None, "bad": -1},  # an argument the resolver refuses
        {"id": order_id, "two": None, "after": "not a cursor", "bad": 101},
    ]
    short = [await _answer(client, admin, variables) for variables in variable_sets]
    usual_way()
    usual = [await _answer(client, admin, variables) for variables in variable_sets]
    assert short == usual

    # and the answers are the ones asked for: each alias its own arguments, per request
    order = short[0]["data"]["order"]
    assert order["all"]["totalCount"] == 5
    assert [n["toStatus"] for n in order["all"]["nodes"]] == ["accepted", "quoted", "intake", "quoted", "intake"]
    assert [n["toStatus"] for n in order["one"]["nodes"]] == ["accepted"]
    assert [n["toStatus"] for n in order["two"]["nodes"]] == ["accepted", "quoted"]
    assert order["two"]["pageInfo"]["hasNextPage"] is True
    assert [n["toStatus"] for n in order["last"]["nodes"]] == ["intake"]
    assert order["bad"] == {"totalCount": 5} and order["later"] == {"nodes": []}
    # a refused argument: the resolver's typed error at the field's path, on both roots
    assert short[1]["data"] == {"order": None, "null": LIST}  # the list's answer is null as a whole
    assert {(tuple(e["path"]), e["extensions"]["code"]) for e in short[1]["errors"]} == {
        (("order", "bad"), "BAD_USER_INPUT"),
        (("orders", "nodes", 0, "bad"), "BAD_USER_INPUT"),
    }
    assert {tuple(e["path"]) for e in short[2]["errors"]} == {("order", "later"), ("orders", "nodes", 0, "later")}
