"""The channel hierarchy through the API: ancestors, descendants, children, members, depth."""

from __future__ import annotations

import pytest

from tests.factories import gid, load_demo, make_contact
from tests.support.api import gql, gql_errors

HIERARCHY = """
query ($id: ID!, $maxDepth: Int) {
  contact(id: $id) {
    displayName depth
    parent { displayName }
    ancestors { level contact { displayName } }
    descendants(maxDepth: $maxDepth, first: 100) {
      totalCount edges { node { level contact { displayName contactType } } }
    }
    children(first: 100) { totalCount nodes { displayName } }
    members(first: 100) { totalCount nodes { displayName contactType } }
  }
}
"""

CHAIN = [
    "Voltara Distribution B.V.",
    "Voltara Regio Noord",
    "Laadpunt Groningen",
    "Snellader Service Haren",
    "Agent Jansen Verkoop",
    "Eva de Vries",
]


async def test_descendants_of_the_master_distributor_reach_all_five_levels(client, sessions) -> None:
    contacts, tokens = await load_demo(sessions)
    data = await gql(client, HIERARCHY, {"id": gid("Contact", contacts[CHAIN[0]].id)}, token=tokens["admin"])
    entries = [e["node"] for e in data["contact"]["descendants"]["edges"]]
    levels = {e["contact"]["displayName"]: e["level"] for e in entries}
    for depth, name in enumerate(CHAIN[1:], start=1):
        assert levels[name] == depth
    assert {e["level"] for e in entries} == {1, 2, 3, 4, 5}
    assert data["contact"]["descendants"]["totalCount"] == len(entries) == 10
    # ordered by level, then by name
    assert [(e["level"], e["contact"]["displayName"]) for e in entries] == sorted(
        (e["level"], e["contact"]["displayName"]) for e in entries
    )
    assert data["contact"]["depth"] == 0
    assert data["contact"]["parent"] is None


async def test_ancestors_of_the_end_customer_are_the_chain_nearest_first(client, sessions) -> None:
    contacts, tokens = await load_demo(sessions)
    data = await gql(client, HIERARCHY, {"id": gid("Contact", contacts["Eva de Vries"].id)}, token=tokens["admin"])
    ancestors = data["contact"]["ancestors"]
    assert [a["contact"]["displayName"] for a in ancestors] == list(reversed(CHAIN[:-1]))
    assert [a["level"] for a in ancestors] == [1, 2, 3, 4, 5]
    assert data["contact"]["depth"] == 5
    assert data["contact"]["parent"]["displayName"] == "Agent Jansen Verkoop"
    assert data["contact"]["descendants"]["totalCount"] == 0


async def test_max_depth_limits_descendants(client, sessions) -> None:
    contacts, tokens = await load_demo(sessions)
    data = await gql(
        client, HIERARCHY, {"id": gid("Contact", contacts[CHAIN[0]].id), "maxDepth": 2}, token=tokens["admin"]
    )
    names = {e["node"]["contact"]["displayName"]: e["node"]["level"] for e in data["contact"]["descendants"]["edges"]}
    assert names == {
        "Mark Visser": 1,
        "Voltara Regio Noord": 1,
        "Voltara Regio Zuid": 1,
        "Anouk Willems": 2,
        "Laadpunt Groningen": 2,
    }
    errors = await gql_errors(
        client, HIERARCHY, {"id": gid("Contact", contacts[CHAIN[0]].id), "maxDepth": 0}, token=tokens["admin"]
    )
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_children_and_members(client, sessions) -> None:
    contacts, tokens = await load_demo(sessions)
    data = await gql(client, HIERARCHY, {"id": gid("Contact", contacts[CHAIN[0]].id)}, token=tokens["admin"])
    children = [c["displayName"] for c in data["contact"]["children"]["nodes"]]
    assert children == ["Mark Visser", "Voltara Regio Noord", "Voltara Regio Zuid"]
    members = data["contact"]["members"]
    assert members["totalCount"] == 1
    assert members["nodes"] == [{"displayName": "Mark Visser", "contactType": "PERSON"}]


async def test_unbounded_depth(client, sessions, admin_token) -> None:
    parent = None
    chain = []
    for level in range(40):
        parent = await make_contact(sessions, f"Level {level:02d}", parent_id=parent.id if parent else None)
        chain.append(parent)
    data = await gql(client, HIERARCHY, {"id": gid("Contact", chain[-1].id)}, token=admin_token)
    assert data["contact"]["depth"] == 39
    assert [a["contact"]["displayName"] for a in data["contact"]["ancestors"]][:3] == [
        "Level 38",
        "Level 37",
        "Level 36",
    ]
    data = await gql(client, HIERARCHY, {"id": gid("Contact", chain[0].id)}, token=admin_token)
    assert data["contact"]["descendants"]["totalCount"] == 39
    assert data["contact"]["descendants"]["edges"][-1]["node"]["level"] == 39


PAGE = """
query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  contact(id: $id) {
    children(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { displayName } }
    }
  }
}
"""


@pytest.fixture
async def parent_with_children(sessions):
    parent = await make_contact(sessions, "Parent")
    for i in range(7):
        await make_contact(sessions, f"Child {i}", parent_id=parent.id)
    return parent


async def test_forward_and_backward_paging(client, admin_token, parent_with_children) -> None:
    variables = {"id": gid("Contact", parent_with_children.id), "first": 3}
    page = (await gql(client, PAGE, variables, token=admin_token))["contact"]["children"]
    assert page["totalCount"] == 7
    assert [e["node"]["displayName"] for e in page["edges"]] == ["Child 0", "Child 1", "Child 2"]
    assert page["pageInfo"]["hasNextPage"] and not page["pageInfo"]["hasPreviousPage"]

    variables["after"] = page["pageInfo"]["endCursor"]
    page = (await gql(client, PAGE, variables, token=admin_token))["contact"]["children"]
    assert [e["node"]["displayName"] for e in page["edges"]] == ["Child 3", "Child 4", "Child 5"]
    assert page["pageInfo"]["hasNextPage"] and page["pageInfo"]["hasPreviousPage"]

    variables["after"] = page["pageInfo"]["endCursor"]
    page = (await gql(client, PAGE, variables, token=admin_token))["contact"]["children"]
    assert [e["node"]["displayName"] for e in page["edges"]] == ["Child 6"]
    assert not page["pageInfo"]["hasNextPage"]

    backwards = {"id": gid("Contact", parent_with_children.id), "last": 2, "before": page["edges"][0]["cursor"]}
    page = (await gql(client, PAGE, backwards, token=admin_token))["contact"]["children"]
    assert [e["node"]["displayName"] for e in page["edges"]] == ["Child 4", "Child 5"]

    last = await gql(client, PAGE, {"id": gid("Contact", parent_with_children.id), "last": 2}, token=admin_token)
    assert [e["node"]["displayName"] for e in last["contact"]["children"]["edges"]] == ["Child 5", "Child 6"]


@pytest.mark.parametrize(
    ("variables", "fragment"),
    [
        ({"first": 101}, "`first` must be between 0 and 100"),
        ({"last": 101}, "`last` must be between 0 and 100"),
        ({"first": -1}, "`first` must be between 0 and 100"),
        ({"first": 2, "after": "not-a-cursor"}, "`after` is not a valid cursor"),
    ],
)
async def test_paging_limits(client, admin_token, parent_with_children, variables, fragment) -> None:
    errors = await gql_errors(
        client, PAGE, {"id": gid("Contact", parent_with_children.id), **variables}, token=admin_token
    )
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert fragment in errors[0]["message"]


async def test_first_100_is_allowed(client, admin_token, parent_with_children) -> None:
    page = await gql(client, PAGE, {"id": gid("Contact", parent_with_children.id), "first": 100}, token=admin_token)
    assert len(page["contact"]["children"]["edges"]) == 7


CONTACTS = """
query ($filter: ContactFilterInput, $orderBy: ContactSort, $first: Int) {
  contacts(filter: $filter, orderBy: $orderBy, first: $first) { totalCount nodes { displayName contactType } }
}
"""


async def test_contacts_filters_and_order(client, sessions) -> None:
    contacts, tokens = await load_demo(sessions)
    admin = tokens["admin"]

    async def names(**variables):
        data = await gql(client, CONTACTS, {"first": 100, **variables}, token=admin)
        return [n["displayName"] for n in data["contacts"]["nodes"]], data["contacts"]["totalCount"]

    found, total = await names(filter={"search": "voltara"})
    assert set(found) == {
        "Voltara Distribution B.V.",
        "Voltara Regio Noord",
        "Voltara Regio Zuid",
        "Mark Visser",  # mark.visser@voltara.demo
        "Anouk Willems",  # anouk.willems@voltararegiozuid.demo
    }
    assert total == 5
    found, _ = await names(filter={"search": "100%_"})
    assert found == []
    found, _ = await names(filter={"subtype": "partner", "contactType": "ORGANIZATION"})
    assert found == ["50five", "Alva", "Eneco", "Essent", "Groendus"]
    found, _ = await names(filter={"parentId": gid("Contact", contacts["Groendus"].id)})
    assert found == ["Groendus Dealer Utrecht", "Groendus Installatie Zuid", "Pieter de Jong"]
    found, _ = await names(filter={"topLevelOnly": True}, orderBy={"field": "DISPLAY_NAME", "direction": "DESC"})
    assert found == ["Voltara Distribution B.V.", "Groendus", "Essent", "Eneco", "Alva", "50five"]
    errors = await gql_errors(client, CONTACTS, {"filter": {"parentId": "bm9wZTpub3Bl"}}, token=admin)
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
