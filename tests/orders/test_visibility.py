"""A partner sees exactly the orders the visibility rule gives it, on every path: `orders`,
`order`, `orderByNumber`, `node`, `nodes`, `contact.orders`, `totalCount`; and contacts on
visible orders become visible."""

from __future__ import annotations

import uuid
from collections import defaultdict

import pytest
from sqlalchemy import text
from strawberry import relay

from tests.factories import DEMO_VIEWERS, gid, make_contact
from tests.support.api import gql
from tests.support.hierarchy import Tree

ORDERS = (
    "query ($after: String) { orders(first: 100, after: $after) "
    "{ totalCount pageInfo { hasNextPage endCursor } nodes { id number } } }"
)
ONE = (
    "query ($id: ID!, $number: String!) "
    "{ order(id: $id) { id } orderByNumber(number: $number) { id } node(id: $id) { id } }"
)
CONTACT_ORDERS = "query ($id: ID!) { contact(id: $id) { orders(first: 100) { totalCount nodes { id } } } }"


def raw(global_id: str) -> uuid.UUID:
    return uuid.UUID(relay.GlobalID.from_id(global_id).node_id)


@pytest.fixture
async def orders(create_order, demo, sessions):
    """Orders in every corner of the demo hierarchy."""
    contacts, tokens = demo
    admin = tokens["admin"]
    outsider = await make_contact(sessions, "Unrelated Customer", person=True, parent_id=contacts["Alva"].id)
    c = contacts
    specs = [
        dict(
            account=c["Agent Jansen Verkoop"],
            end_customer=c["Eva de Vries"],
            channel=[
                c["Agent Jansen Verkoop"],
                c["Snellader Service Haren"],
                c["Laadpunt Groningen"],
                c["Voltara Regio Noord"],
                c["Voltara Distribution B.V."],
            ],
        ),
        dict(account=c["Laadpunt Groningen"], channel=[c["Laadpunt Groningen"], c["Voltara Regio Noord"]]),
        dict(account=c["Voltara Regio Zuid"], channel=[c["Voltara Regio Zuid"], c["Voltara Distribution B.V."]]),
        dict(account=c["Groendus"], end_customer=outsider, channel=[c["Groendus Dealer Utrecht"], c["Groendus"]]),
        dict(account=c["Alva"], end_customer=c["Eva de Vries"]),  # the customer's second order, elsewhere
        dict(account=c["Essent"]),
    ]
    created = []
    for spec in specs:
        result = await create_order(admin, **spec)
        assert result["__typename"] == "OrderSuccess", result
        created.append(result["order"])
    return created


async def _expected(session, viewer_id, role) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """Visible orders and visible contacts, computed from the tables in Python."""
    tree = Tree(
        (await session.execute(text("SELECT id, parent_organization_id, contact_type::text FROM contact"))).all()
    )
    full, name_only = tree.expected(viewer_id, role)
    involved: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for order_id, account, end_customer in (
        await session.execute(text("SELECT id, account_contact_id, end_customer_contact_id FROM sales_order"))
    ).all():
        involved[order_id] |= {account} | ({end_customer} if end_customer else set())
    for order_id, contact_id in (await session.execute(text("SELECT order_id, contact_id FROM order_channel"))).all():
        involved[order_id].add(contact_id)
    visible_orders = {o for o, people in involved.items() if viewer_id is None or people & full}
    on_orders = set().union(*(involved[o] for o in visible_orders)) if visible_orders else set()
    return visible_orders, full | name_only | on_orders


@pytest.mark.parametrize(("key", "viewer_name", "role"), DEMO_VIEWERS, ids=[v[0] for v in DEMO_VIEWERS])
async def test_every_order_path_matches_the_rule(client, session, demo, orders, key, viewer_name, role) -> None:
    contacts, tokens = demo
    token = tokens[key]
    viewer_id = contacts[viewer_name].id if viewer_name else None
    visible, visible_contacts = await _expected(session, viewer_id, role)
    all_orders = {raw(o["id"]): o for o in orders}
    if key != "admin":
        assert set(all_orders) - visible, "the data must hold orders this viewer may not see"
        assert visible, "and orders it may see"

    listing = await gql(client, ORDERS, {}, token=token)
    assert {raw(n["id"]) for n in listing["orders"]["nodes"]} == visible
    assert listing["orders"]["totalCount"] == len(visible)

    for order_id, order in all_orders.items():
        data = await gql(client, ONE, {"id": order["id"], "number": order["number"]}, token=token)
        seen = order_id in visible
        assert [(data[k] is not None) for k in ("order", "orderByNumber", "node")] == [seen] * 3, order["number"]
    data = await gql(
        client, "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [o["id"] for o in orders]}, token=token
    )
    assert [n is not None for n in data["nodes"]] == [raw(o["id"]) in visible for o in orders]

    # contact.orders for every contact the viewer can see
    involved = defaultdict(set)
    for order_id, account, end_customer in (
        await session.execute(text("SELECT id, account_contact_id, end_customer_contact_id FROM sales_order"))
    ).all():
        involved[account].add(order_id)
        if end_customer:
            involved[end_customer].add(order_id)
    for order_id, contact_id in (await session.execute(text("SELECT order_id, contact_id FROM order_channel"))).all():
        involved[contact_id].add(order_id)
    for contact_id in visible_contacts:
        gid = str(relay.GlobalID("Contact", str(contact_id)))
        data = await gql(client, CONTACT_ORDERS, {"id": gid}, token=token)
        expected = involved[contact_id] & visible
        assert {raw(n["id"]) for n in data["contact"]["orders"]["nodes"]} == expected
        assert data["contact"]["orders"]["totalCount"] == len(expected)

    # contacts: the hierarchy rule plus everyone on a visible order
    listing = await gql(client, "{ contacts(first: 100) { totalCount nodes { id } } }", token=token)
    assert {raw(n["id"]) for n in listing["contacts"]["nodes"]} == visible_contacts


async def test_the_dealer_sees_the_end_customer_of_its_order_in_full(client, demo, orders, sessions) -> None:
    contacts, tokens = demo
    outsider_order = orders[3]
    data = await gql(
        client, "query ($id: ID!) { order(id: $id) { id } }", {"id": outsider_order["id"]}, token=tokens["dealer"]
    )
    assert data["order"] is None
    chain_order = orders[0]
    query = """query ($id: ID!) { order(id: $id) { accountContact { displayName email }
        endCustomer { displayName email } channelChain { position contact { displayName } } } }"""
    data = (await gql(client, query, {"id": chain_order["id"]}, token=tokens["dealer"]))["order"]
    assert data["endCustomer"] == {"displayName": "Eva de Vries", "email": "eva.devries@example.demo"}
    assert [e["contact"]["displayName"] for e in data["channelChain"]] == [
        "Agent Jansen Verkoop",
        "Snellader Service Haren",
        "Laadpunt Groningen",
        "Voltara Regio Noord",
        "Voltara Distribution B.V.",
    ]
    assert [e["position"] for e in data["channelChain"]] == [1, 2, 3, 4, 5]


async def test_order_filters(client, demo, orders) -> None:
    contacts, tokens = demo
    admin = tokens["admin"]
    query = "query ($filter: OrderFilterInput) { orders(filter: $filter, first: 100) { totalCount } }"

    async def total(**filter_):
        return (await gql(client, query, {"filter": filter_}, token=admin))["orders"]["totalCount"]

    voltara = str(relay.GlobalID("Contact", str(contacts["Voltara Distribution B.V."].id)))
    assert await total(contactId=voltara) == 2
    assert await total(status=["intake"]) == 6
    assert await total(status=["quoted"]) == 0
    assert await total(overdue=True) == 0
    assert await total(overdue=False) == 6
    assert await total(createdFrom="2000-01-01T00:00:00+00:00", createdTo="2001-01-01T00:00:00+00:00") == 0


PAGES = """query ($a: ID!, $b: ID!, $afterA: String, $beforeB: String) {
  a1: contact(id: $a) { orders(first: 2) { ...page } }
  a2: contact(id: $a) { orders(first: 2, after: $afterA) { ...page } }
  a3: contact(id: $a) { orders(last: 2) { ...page } }
  a4: contact(id: $a) { orders(first: 0) { ...page } }
  b1: contact(id: $b) { orders(last: 1, before: $beforeB) { ...page } }
  b2: contact(id: $b) { orders { ...page } }
}
fragment page on OrderConnection {
  totalCount pageInfo { hasNextPage hasPreviousPage } edges { cursor node { id } }
}"""


async def test_contact_orders_pages_newest_first(client, session, demo, orders, create_order) -> None:
    """`contact.orders` is paged in SQL per contact: several contacts and windows in one
    request, each page equal to the slice of the contact's visible orders, newest first."""
    contacts, tokens = demo
    c = contacts
    for _ in range(3):
        result = await create_order(
            tokens["admin"],
            account=c["Laadpunt Groningen"],
            channel=[c["Laadpunt Groningen"], c["Voltara Regio Noord"]],
        )
        assert result["__typename"] == "OrderSuccess", result

    async def newest_first(contact_id: uuid.UUID) -> list[uuid.UUID]:
        return list(
            (
                await session.scalars(
                    text(
                        "SELECT o.id FROM sales_order o WHERE o.account_contact_id = :c OR "
                        "o.end_customer_contact_id = :c "
                        "OR EXISTS (SELECT 1 FROM order_channel ch WHERE ch.order_id = o.id AND ch.contact_id = :c) "
                        "ORDER BY o.created_at DESC, o.id DESC"
                    ),
                    {"c": contact_id},
                )
            ).all()
        )

    a, b = c["Laadpunt Groningen"].id, c["Voltara Distribution B.V."].id
    all_a, all_b = await newest_first(a), await newest_first(b)
    assert len(all_a) == 5 and len(all_b) == 2
    first = await gql(client, PAGES, {"a": gid("Contact", a), "b": gid("Contact", b)}, token=tokens["admin"])
    variables = {
        "a": gid("Contact", a),
        "b": gid("Contact", b),
        "afterA": first["a1"]["orders"]["edges"][-1]["cursor"],
        "beforeB": first["b2"]["orders"]["edges"][1]["cursor"],
    }
    data = await gql(client, PAGES, variables, token=tokens["admin"])

    def page(alias: str) -> tuple[list[uuid.UUID], bool, bool, int]:
        orders_ = data[alias]["orders"]
        info = orders_["pageInfo"]
        return (
            [raw(e["node"]["id"]) for e in orders_["edges"]],
            info["hasNextPage"],
            info["hasPreviousPage"],
            orders_["totalCount"],
        )

    assert page("a1") == (all_a[:2], True, False, 5)
    assert page("a2") == (all_a[2:4], True, True, 5)
    assert page("a3") == (all_a[3:], False, True, 5)
    assert page("a4") == ([], True, False, 5)
    assert page("b1") == (all_b[:1], True, False, 2)
    assert page("b2") == (all_b, False, False, 2)

    # a partner sees only its visible part of a contact's orders, paged the same way
    visible, _ = await _expected(session, c["Sanne Bakker"].id, "partner")
    data = await gql(client, PAGES, variables, token=tokens["dealer"])
    expected_b = [o for o in all_b if o in visible]
    assert 0 < len(expected_b) < len(all_b), "the distributor has orders inside and outside the dealer's scope"
    assert page("b2") == (expected_b, False, False, len(expected_b))
