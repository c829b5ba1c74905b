"""The executor's short way (graphql_schema/execution.py), and the functions it writes for whole
selections (graphql_schema/compiled.py), answer exactly as graphql-core's usual way: the same
data and the same errors, for resolvers with arguments too (coerced once per selection, from
literals and variables, under aliases)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from app.accounts.models import Role
from bench.generate import generate
from graphql_schema import compiled, execution
from tests.factories import issue_token
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


TREE = (Path(__file__).parents[1] / "bench" / "queries" / "order_tree.fragment.graphql").read_text()
TREE_LIST = "query { orders(first: 25) { totalCount nodes { __typename kind: __typename ...OrderTree } } }" + TREE
TREE_NODE = "query ($id: ID!) { node(id: $id) { __typename ... on Order { ...OrderTree } } }" + TREE


@pytest.fixture
def unwritten(monkeypatch):
    """The short way, field by field: no function written for any selection."""

    def switch() -> None:
        monkeypatch.setattr(execution.Executor, "_written", lambda self, parent_type, grouped, cls: None)

    return switch


async def test_written_functions_answer_as_the_short_way_and_the_usual_way(
    client, database_url, sessions, unwritten, usual_way, monkeypatch
) -> None:
    # the benchmark's generator: 200 orders with every relation of the benchmark's order tree
    data = await generate(database_url, scale=0.004)
    tokens = {
        "admin": await issue_token(sessions, Role.ADMIN),
        "partner": await issue_token(sessions, Role.PARTNER, contact_id=data.staff[data.top_partner][0]),
    }
    written: list[list[Any]] = []
    straight = execution.Executor._straight

    def kept(self, parent_type, grouped, cls):
        found = straight(self, parent_type, grouped, cls)
        written.append([parent_type.name, found])
        return found

    monkeypatch.setattr(execution.Executor, "_straight", kept)

    async def answers(check: bool = False) -> list[Any]:
        out = []
        for viewer in ("admin", "partner"):
            written.clear()
            listed = (await post(client, TREE_LIST, token=tokens[viewer])).json()
            out.append(listed)
            if check:  # the list's tree: every selection below the root written, none met anything unusual
                assert {name for name, _ in written} >= {"Order", "LineItem", "ContactAtLevel", "WorkOrderTask"}
                assert all(found is not None and found[2] == 0 for name, found in written if name != "Query")
            for node in listed["data"]["orders"]["nodes"][:3]:
                one = await post(client, TREE_NODE, {"id": node["id"]}, token=tokens[viewer])
                out.append(one.json())
        return out

    first = await answers(check=True)
    orders = first[0]["data"]["orders"]["nodes"]
    assert len(orders) == 25 and all(order["__typename"] == order["kind"] == "Order" for order in orders)
    for relation in ("lines", "commissions", "invoices", "visits", "workOrders", "channelChain"):
        assert any(order[relation] for order in orders), relation
    assert all("errors" not in answer for answer in first)
    assert [answer["data"]["node"]["number"] for answer in first[1:4]] == [o["number"] for o in orders[:3]]
    unwritten()
    assert await answers() == first
    usual_way()
    assert await answers() == first


def test_an_awaitable_a_resolver_returned_is_closed_and_left_to_the_usual_way() -> None:
    async def later() -> int:
        return 1

    pending = later()
    with pytest.raises(compiled.Unusual):
        compiled._awaiting(pending)
    assert inspect.getcoroutinestate(pending) == inspect.CORO_CLOSED
    compiled._awaiting([1])  # not awaitable: nothing happens
    compiled._awaiting(object())


def test_a_null_item_of_a_non_null_list_is_unusual() -> None:
    def site(value: Any) -> Any:
        return {"v": value}

    assert compiled._objects(site, [1, 2], non_null=True) == [{"v": 1}, {"v": 2}]
    assert compiled._objects(site, [1, None], non_null=False) == [{"v": 1}, None]
    with pytest.raises(compiled.Unusual):
        compiled._objects(site, [1, None], non_null=True)
    with pytest.raises(compiled.Unusual):
        compiled._leaves(str, ["a", None], non_null=True)
