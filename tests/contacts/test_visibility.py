"""What each kind of viewer sees of the contacts, on every path, compared with an independent
computation of the visibility rule (docs/design.md, "Visibility"): the scope (the viewer's organisation and all below
it, or the
customer's own contact, plus the viewer's own contact) and the viewer's ancestors (name only)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from strawberry import relay

from tests.factories import DEMO_VIEWERS, gid, load_demo, make_contact
from tests.support.api import gql
from tests.support.hierarchy import Tree

CONTACTS = (
    "query ($first: Int, $after: String) { contacts(first: $first, after: $after) "
    "{ totalCount pageInfo { hasNextPage endCursor } nodes { id } } }"
)
NODE = "query ($id: ID!) { node(id: $id) { id ... on Contact { displayName } } contact(id: $id) { id } }"
NODES = "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }"
NESTED = """
query ($first: Int, $after: String) {
  contacts(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id email phone firstName
      parent { id }
      ancestors { contact { id } }
      children(first: 100) { totalCount nodes { id } }
      members(first: 100) { totalCount nodes { id } }
      descendants(first: 100) { totalCount nodes { contact { id } } }
    }
  }
}
"""


async def _tree(session) -> Tree:
    rows = (await session.execute(text("SELECT id, parent_organization_id, contact_type::text FROM contact"))).all()
    return Tree(rows)


async def _all_pages(client, query, token):
    nodes, after = [], None
    while True:
        data = (await gql(client, query, {"first": 100, "after": after}, token=token))["contacts"]
        nodes += data["nodes"]
        if not data["pageInfo"]["hasNextPage"]:
            return nodes, data.get("totalCount")
        after = data["pageInfo"]["endCursor"]


@pytest.fixture
async def demo(sessions):
    contacts, tokens = await load_demo(sessions)
    # A sibling branch beside the dealer's: under the dealer's parent, so outside its scope.
    other = await make_contact(sessions, "Other Sub-dealer", parent_id=contacts["Laadpunt Groningen"].id)
    await make_contact(sessions, "Other Person", person=True, parent_id=other.id)
    return contacts, tokens


@pytest.mark.parametrize(("key", "viewer_name", "role"), DEMO_VIEWERS, ids=[v[0] for v in DEMO_VIEWERS])
async def test_every_path_shows_exactly_the_scope(client, session, demo, key, viewer_name, role) -> None:
    contacts, tokens = demo
    token = tokens[key]
    tree = await _tree(session)
    viewer = contacts[viewer_name].id if viewer_name else None
    full, name_only = tree.expected(viewer, role)
    visible = full | name_only
    everyone = set(tree.parent)
    if key != "admin":
        assert everyone - visible, "the demo data must hold contacts this viewer may not see"

    # lists and counts
    nodes, total = await _all_pages(client, CONTACTS, token)
    assert {relay.GlobalID.from_id(n["id"]).node_id for n in nodes} == {str(c) for c in visible}
    assert total == len(visible)

    # node(id:), contact(id:) and nodes(ids:), for every contact in the table
    for contact_id in everyone:
        data = await gql(client, NODE, {"id": gid("Contact", contact_id)}, token=token)
        seen = contact_id in visible
        assert (data["node"] is not None) is seen, contact_id
        assert (data["contact"] is not None) is seen, contact_id
    ordered = sorted(everyone)
    for start in range(0, len(ordered), 100):
        chunk = ordered[start : start + 100]
        data = await gql(client, NODES, {"ids": [gid("Contact", c) for c in chunk]}, token=token)
        assert [n is not None for n in data["nodes"]] == [c in visible for c in chunk]

    # every nested relation of every visible contact, and its counts
    nested, _ = await _all_pages(client, NESTED, token)
    for node in nested:
        contact_id = uuid.UUID(relay.GlobalID.from_id(node["id"]).node_id)

        def ids(items, key=None):
            return {uuid.UUID(relay.GlobalID.from_id((i[key] if key else i)["id"]).node_id) for i in items}

        children = {c for c in tree.children[contact_id] if c in visible}
        assert ids(node["children"]["nodes"]) == children
        assert node["children"]["totalCount"] == len(children)
        members = {c for c in children if tree.kind[c] == "person"}
        assert ids(node["members"]["nodes"]) == members
        assert node["members"]["totalCount"] == len(members)
        below = tree.below(contact_id) & visible
        assert node["descendants"]["totalCount"] == len(below)
        if len(below) <= 100:
            assert ids(node["descendants"]["nodes"], "contact") == below
        assert ids(node["ancestors"], "contact") == set(tree.above(contact_id))
        parent = tree.parent[contact_id]
        assert (node["parent"] and uuid.UUID(relay.GlobalID.from_id(node["parent"]["id"]).node_id)) == parent
        # ancestors outside the scope: the name only
        if contact_id in name_only:
            assert node["email"] is None and node["phone"] is None and node["firstName"] is None
        else:
            assert node["email"] is not None


async def test_dealer_specifics(client, demo) -> None:
    contacts, tokens = demo
    data = await gql(
        client,
        "{ viewer { roles contact { displayName } scopeRoot { displayName } } }",
        token=tokens["dealer"],
    )
    assert data["viewer"] == {
        "roles": ["PARTNER"],
        "contact": {"displayName": "Sanne Bakker"},
        "scopeRoot": {"displayName": "Snellader Service Haren"},
    }
    # the sibling sub-dealer is not a child of the dealer's parent, as far as the dealer knows
    query = "query ($id: ID!) { contact(id: $id) { email children(first: 100) { totalCount nodes { displayName } } } }"
    data = await gql(client, query, {"id": gid("Contact", contacts["Laadpunt Groningen"].id)}, token=tokens["dealer"])
    assert data["contact"]["email"] is None
    assert data["contact"]["children"] == {"totalCount": 1, "nodes": [{"displayName": "Snellader Service Haren"}]}
    # … while the partner at the top sees both
    data = await gql(client, query, {"id": gid("Contact", contacts["Laadpunt Groningen"].id)}, token=tokens["partner"])
    assert data["contact"]["children"]["totalCount"] == 2
    # a contact outside the scope is absent, not an error
    data = await gql(client, NODE, {"id": gid("Contact", contacts["Groendus"].id)}, token=tokens["dealer"])
    assert data == {"node": None, "contact": None}


async def test_staff_see_everything(client, demo, session) -> None:
    _, tokens = demo
    total = (await session.execute(text("SELECT count(*) FROM contact"))).scalar_one()
    data = await gql(client, "{ contacts { totalCount } viewer { scopeRoot { id } } }", token=tokens["admin"])
    assert data["contacts"]["totalCount"] == total
    assert data["viewer"]["scopeRoot"] is None
