"""The policy's field rules on the demo hierarchy, the two holes found by probing as a partner
and as a customer, searching hidden fields, and what a move in the hierarchy changes at once.

Demo chain: Voltara Distribution B.V. → Voltara Regio Noord → Laadpunt Groningen → Snellader
Service Haren (the dealer Sanne Bakker) → Agent Jansen Verkoop → Eva de Vries (the customer).
"""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import text

from tests.factories import brand_id, gid
from tests.support.api import CREATE_ORDER, gql

CONTACT = """query ($id: ID!) { contact(id: $id) {
  displayName email phone firstName commissionRate businessEntity { code } } }"""
ORDER = """query ($id: ID!) { order(id: $id) {
  accountContact { displayName email phone commissionRate businessEntity { code } }
  endCustomer { displayName firstName email phone }
  channelChain { position contact { displayName email phone commissionRate } } } }"""
HIDDEN_DETAILS = {"email": None, "phone": None, "commissionRate": None}


async def test_an_upline_named_on_a_partners_own_order_stays_name_only(client, sessions, demo) -> None:
    contacts, tokens = demo
    dealer, upline = contacts["Snellader Service Haren"], contacts["Laadpunt Groningen"]
    variables = {
        "input": {
            "businessEntityId": gid("BusinessEntity", await brand_id(sessions, "CC")),
            "accountContactId": gid("Contact", upline.id),
            "channelContactIds": [gid("Contact", dealer.id), gid("Contact", upline.id)],
        }
    }
    created = (await gql(client, CREATE_ORDER, variables, token=tokens["dealer"]))["createOrder"]
    assert created["__typename"] == "OrderSuccess"  # naming the upline is allowed …

    order = (await gql(client, ORDER, {"id": created["order"]["id"]}, token=tokens["dealer"]))["order"]
    # … and unlocks nothing: the upline is still known by name only
    assert order["accountContact"] == {"displayName": "Laadpunt Groningen", **HIDDEN_DETAILS, "businessEntity": None}
    assert order["channelChain"][1]["contact"] == {"displayName": "Laadpunt Groningen", **HIDDEN_DETAILS}
    seen = (await gql(client, CONTACT, {"id": gid("Contact", upline.id)}, token=tokens["dealer"]))["contact"]
    assert seen == {
        "displayName": "Laadpunt Groningen",
        "email": None,
        "phone": None,
        "firstName": None,
        "commissionRate": None,
        "businessEntity": None,
    }
    # its own organisation in full, commission rate included (inherited rates are not stored: null)
    own = (await gql(client, CONTACT, {"id": gid("Contact", dealer.id)}, token=tokens["dealer"]))["contact"]
    assert own["email"] == "info@snelladerserviceharen.demo" and own["businessEntity"] == {"code": "CC"}
    agent = (
        await gql(client, CONTACT, {"id": gid("Contact", contacts["Agent Jansen Verkoop"].id)}, token=tokens["dealer"])
    )["contact"]
    assert agent["commissionRate"] == "0.0400"  # inside its scope


async def test_a_customer_reads_its_orders_partners_by_name_only(client, sessions) -> None:
    from tests.factories import load_demo

    contacts, tokens = await load_demo(sessions, with_orders=True)
    data = await gql(client, "{ orders(first: 20) { nodes { id } } }", token=tokens["customer"])
    ids = [node["id"] for node in data["orders"]["nodes"]]
    assert ids, "the demo customer has orders"
    for order_id in ids:
        order = (await gql(client, ORDER, {"id": order_id}, token=tokens["customer"]))["order"]
        for entry in order["channelChain"]:
            assert (
                entry["contact"]["displayName"] and {k: entry["contact"][k] for k in HIDDEN_DETAILS} == HIDDEN_DETAILS
            )
        assert {k: order["accountContact"][k] for k in HIDDEN_DETAILS} == HIDDEN_DETAILS
        # itself in full, but no commission rate even where it would have one
        assert order["endCustomer"] == {
            "displayName": "Eva de Vries",
            "firstName": "Eva",
            "email": "eva.devries@example.demo",
            "phone": "+31 6 1234 5678",
        }


async def test_a_partner_sees_what_working_its_orders_needs(client, sessions) -> None:
    from tests.factories import load_demo

    contacts, tokens = await load_demo(sessions, with_orders=True)
    data = await gql(client, "{ orders(first: 50) { nodes { id endCustomer { id } } } }", token=tokens["partner"])
    with_customer = [n["id"] for n in data["orders"]["nodes"] if n["endCustomer"]]
    order = (await gql(client, ORDER, {"id": with_customer[0]}, token=tokens["partner"]))["order"]
    assert order["endCustomer"]["email"] and order["endCustomer"]["phone"]


async def test_hidden_fields_cannot_be_searched(client, demo) -> None:
    contacts, tokens = demo
    query = "query ($s: String) { contacts(filter: {search: $s}) { totalCount nodes { displayName } } }"
    # the upline's e-mail address is hidden from the dealer: searching it finds nothing
    found = (await gql(client, query, {"s": "info@laadpuntgroningen"}, token=tokens["dealer"]))["contacts"]
    assert found == {"totalCount": 0, "nodes": []}
    found = (await gql(client, query, {"s": "Laadpunt Groningen"}, token=tokens["dealer"]))["contacts"]
    assert found["nodes"] == [{"displayName": "Laadpunt Groningen"}]  # by name it is there
    found = (await gql(client, query, {"s": "info@laadpuntgroningen"}, token=tokens["admin"]))["contacts"]
    assert found["totalCount"] == 1


MOVE = """mutation ($id: ID!, $parent: ID) { updateContact(input: {id: $id, parentId: $parent}) {
  __typename ... on UserError { message } } }"""
VIEW = """{ viewer { contact { ancestors { contact { displayName email } } } }
  contacts(first: 100) { totalCount nodes { displayName commissionRate } } orders(first: 100) { totalCount } }"""


async def test_a_move_changes_what_the_whole_subtree_sees_at_once(client, sessions) -> None:
    from tests.factories import load_demo

    contacts, tokens = await load_demo(sessions, with_orders=True)
    regio_noord, regio_zuid = contacts["Voltara Regio Noord"], contacts["Voltara Regio Zuid"]
    before = await gql(client, VIEW, token=tokens["dealer"])
    ancestors = [a["contact"]["displayName"] for a in before["viewer"]["contact"]["ancestors"]]
    assert ancestors[:4] == [
        "Snellader Service Haren",
        "Laadpunt Groningen",
        "Voltara Regio Noord",
        "Voltara Distribution B.V.",
    ]
    zuid_before = await _partner_view(client, sessions, regio_zuid.id)
    noord_before = await _partner_view(client, sessions, regio_noord.id)
    assert noord_before["rates"]["Laadpunt Groningen"] == "0.0500"  # its own part: terms included

    # Laadpunt Groningen (with the dealer below it) moves from Regio Noord to Regio Zuid
    moved = await gql(
        client,
        MOVE,
        {"id": gid("Contact", contacts["Laadpunt Groningen"].id), "parent": gid("Contact", regio_zuid.id)},
        token=tokens["admin"],
    )
    assert moved["updateContact"]["__typename"] == "ContactSuccess"

    after = await gql(client, VIEW, token=tokens["dealer"])
    ancestors = [a["contact"]["displayName"] for a in after["viewer"]["contact"]["ancestors"]]
    assert ancestors[:4] == [
        "Snellader Service Haren",
        "Laadpunt Groningen",
        "Voltara Regio Zuid",
        "Voltara Distribution B.V.",
    ]
    assert all(a["contact"]["email"] is None for a in after["viewer"]["contact"]["ancestors"][1:])
    # the new region's partner now sees the moved subtree and its orders; the old one does not
    zuid_after = await _partner_view(client, sessions, regio_zuid.id)
    assert "Snellader Service Haren" in zuid_after["names"] and "Snellader Service Haren" not in zuid_before["names"]
    assert zuid_after["orders"] > zuid_before["orders"]
    # the old region still sees the dealer on the orders it is on, but no longer as its own part
    noord_after = await _partner_view(client, sessions, regio_noord.id)
    assert noord_after["rates"]["Laadpunt Groningen"] is None
    assert zuid_after["rates"]["Laadpunt Groningen"] == "0.0500"


async def _partner_view(client, sessions, organisation_id) -> dict[str, Any]:
    from app.accounts.models import Role
    from tests.factories import issue_token

    token = await issue_token(sessions, Role.PARTNER, contact_id=organisation_id)
    data = await gql(
        client, VIEW.replace("viewer { contact { ancestors { contact { displayName email } } } }", ""), token=token
    )
    nodes = data["contacts"]["nodes"]
    return {
        "names": {n["displayName"] for n in nodes},
        "rates": {n["displayName"]: n["commissionRate"] for n in nodes},
        "orders": data["orders"]["totalCount"],
    }


async def test_the_closure_table_follows_every_move(client, sessions, engine) -> None:
    """Random moves through the API; after each, the closure table equals the hierarchy's
    transitive closure computed from `parent_organization_id` alone."""
    from tests.factories import load_demo

    contacts, tokens = await load_demo(sessions)
    rng = random.Random(5)
    organisations = [c for c in contacts.values() if c.contact_type.value == "organization"]
    moves = 0
    for _ in range(25):
        mover, target = rng.sample(organisations, 2)
        parent = None if rng.random() < 0.15 else gid("Contact", target.id)
        result = await gql(client, MOVE, {"id": gid("Contact", mover.id), "parent": parent}, token=tokens["admin"])
        moves += result["updateContact"]["__typename"] == "ContactSuccess"  # a cycle is refused
        async with engine.connect() as conn:
            stored = set(
                (await conn.execute(text("SELECT ancestor_id, descendant_id, depth FROM contact_closure"))).all()
            )
            computed = set(
                (
                    await conn.execute(
                        text(
                            "WITH RECURSIVE up(a, d, n) AS (SELECT id, id, 0 FROM contact UNION ALL "
                            "SELECT c.parent_organization_id, up.d, up.n + 1 FROM up JOIN contact c ON c.id = up.a "
                            "WHERE c.parent_organization_id IS NOT NULL) SELECT a, d, n FROM up"
                        )
                    )
                ).all()
            )
        assert stored == computed
    assert moves >= 10


async def test_order_parties_follow_every_order(client, sessions, engine) -> None:
    """`order_party` (kept by triggers) equals the orders' roles computed from their own rows,
    after the demo's orders and one more with a chain."""
    from tests.factories import load_demo

    contacts, tokens = await load_demo(sessions, with_orders=True)
    variables = {
        "input": {
            "businessEntityId": gid("BusinessEntity", await brand_id(sessions, "CC")),
            "accountContactId": gid("Contact", contacts["Agent Jansen Verkoop"].id),
            "endCustomerContactId": gid("Contact", contacts["Eva de Vries"].id),
            "channelContactIds": [
                gid("Contact", contacts[n].id) for n in ("Agent Jansen Verkoop", "Snellader Service Haren")
            ],
        }
    }
    assert (await gql(client, CREATE_ORDER, variables, token=tokens["admin"]))["createOrder"][
        "__typename"
    ] == "OrderSuccess"
    async with engine.connect() as conn:
        stored = set((await conn.execute(text("SELECT order_id, contact_id FROM order_party"))).all())
        computed = set(
            (
                await conn.execute(
                    text(
                        "SELECT id, account_contact_id FROM sales_order UNION SELECT id, "
                        "end_customer_contact_id FROM sales_order "
                        "WHERE end_customer_contact_id IS NOT NULL UNION SELECT order_id, contact_id FROM order_channel"
                    )
                )
            ).all()
        )
    assert stored == computed and len(stored) > 10
