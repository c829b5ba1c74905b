"""The structures the visibility rules read are kept exact on write (migrations 0005, 0007,
0009): `contact_closure`, `order_party` and `order_reach` always equal what a recomputation from
the contacts and orders gives, through moves, new orders, chain changes and concurrent writes;
and a move changes what the moved subtree's whole scope sees at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from sqlalchemy import text

from app.access.policy import viewer_for
from app.accounts.models import Role
from app.audit.service import SYSTEM
from app.contacts import service as contacts
from app.contacts.models import ContactType
from app.contacts.service import ContactChanges
from app.orders import service as orders
from app.orders.service import OrderCreate
from tests.factories import brand_id, issue_token, load_demo, make_contact
from tests.support.api import gql
from tests.support.locks import until_waiting_for_advisory_lock

CLOSURE = """
    WITH RECURSIVE chain(ancestor_id, descendant_id, depth) AS (
        SELECT id, id, 0 FROM contact
        UNION ALL
        SELECT c.parent_organization_id, chain.descendant_id, chain.depth + 1
        FROM chain JOIN contact c ON c.id = chain.ancestor_id WHERE c.parent_organization_id IS NOT NULL)
    SELECT ancestor_id, descendant_id, depth FROM chain"""
PARTIES = """
    SELECT id, account_contact_id FROM sales_order
    UNION SELECT id, end_customer_contact_id FROM sales_order WHERE end_customer_contact_id IS NOT NULL
    UNION SELECT order_id, contact_id FROM order_channel"""
REACH = (
    f"SELECT DISTINCT closure.ancestor_id, parties.id FROM ({PARTIES}) parties (id, contact_id) "
    f"JOIN ({CLOSURE}) closure ON closure.descendant_id = parties.contact_id"
)


async def assert_exact(sessions) -> None:
    async with sessions() as session:
        for kept, computed in (
            ("SELECT ancestor_id, descendant_id, depth FROM contact_closure", CLOSURE),
            ("SELECT order_id, contact_id FROM order_party", PARTIES),
            ("SELECT ancestor_id, order_id FROM order_reach", REACH),
        ):
            have = set((await session.execute(text(kept))).all())
            want = set((await session.execute(text(computed))).all())
            assert have == want, (kept, len(have - want), len(want - have))


async def new_order(
    sessions, account: uuid.UUID, channel: Sequence[uuid.UUID] = (), end: uuid.UUID | None = None
) -> uuid.UUID:
    brand = await brand_id(sessions, "CC")
    async with sessions() as session, session.begin():
        order = await orders.create(
            session=session,
            actor=SYSTEM,
            viewer=viewer_for(roles=frozenset({"admin"}), contact_id=None, contact_type=None, parent_id=None),
            order_in=OrderCreate(
                business_entity_id=brand,
                account_contact_id=account,
                end_customer_contact_id=end,
                channel_contact_ids=list(channel),
            ),
        )
        return order.id


async def move(sessions, contact_id: uuid.UUID, parent_id: uuid.UUID | None) -> None:
    async with sessions() as session, session.begin():
        await contacts.update(
            session=session, contact_id=contact_id, changes=ContactChanges(parent_id=parent_id), actor=SYSTEM
        )


async def test_kept_structures_stay_exact_through_moves_orders_and_chain_changes(sessions) -> None:
    found, _ = await load_demo(sessions, with_orders=True)
    await assert_exact(sessions)
    top = await make_contact(sessions, "Top")
    middle = await make_contact(sessions, "Middle", parent_id=top.id)
    dealer = await make_contact(sessions, "Dealer", parent_id=middle.id)
    person = await make_contact(sessions, "Buyer", person=True)
    await new_order(sessions, dealer.id, [dealer.id, middle.id], end=person.id)
    seller = found["Sanne Bakker"]
    assert seller.parent_organization_id is not None
    await new_order(sessions, seller.id, [seller.parent_organization_id], end=person.id)
    await assert_exact(sessions)
    await move(sessions, middle.id, found["Voltara Distribution B.V."].id)  # a subtree with orders moves
    await assert_exact(sessions)
    await move(sessions, middle.id, None)  # and becomes top-level
    await assert_exact(sessions)
    async with sessions() as session, session.begin():  # the chain changes by hand
        await session.execute(text("DELETE FROM order_channel WHERE contact_id = :c"), {"c": dealer.id})
    await assert_exact(sessions)


ORDERS = "{ orders(first: 100) { totalCount nodes { id } } contacts(first: 100) { totalCount } }"


async def test_a_move_changes_what_the_whole_subtree_is_seen_by_at_once(client, sessions) -> None:
    partner = await make_contact(sessions, "Partner")
    outside = await make_contact(sessions, "Outside")
    shop = await make_contact(sessions, "Shop", parent_id=outside.id)
    seller = await make_contact(sessions, "Seller", person=True, parent_id=shop.id)
    orders_below = {await new_order(sessions, shop.id, [shop.id]) for _ in range(3)}
    orders_below.add(await new_order(sessions, seller.id, [shop.id]))
    token = await issue_token(sessions, Role.PARTNER, contact_id=partner.id)

    before = await gql(client, ORDERS, token=token)
    assert before["orders"]["totalCount"] == 0 and before["contacts"]["totalCount"] == 1

    await move(sessions, outside.id, partner.id)  # one move: the subtree of three levels comes along
    after = await gql(client, ORDERS, token=token)
    assert after["orders"]["totalCount"] == len(orders_below) == 4
    assert after["contacts"]["totalCount"] == 4  # partner, outside, shop, seller

    await move(sessions, outside.id, None)
    again = await gql(client, ORDERS, token=token)
    assert again == before
    await assert_exact(sessions)


async def test_an_order_written_while_its_subtree_moves_reaches_the_new_ancestors(sessions) -> None:
    """T1 moves a shop under a new parent and holds its transaction open; T2 writes an order of
    a seller of the shop meanwhile (a row the move does not touch): it waits for the move and
    then reaches the new parent, never the old."""
    old_parent = await make_contact(sessions, "Old")
    new_parent = await make_contact(sessions, "New")
    shop = await make_contact(sessions, "Shop", parent_id=old_parent.id)
    seller = await make_contact(sessions, "Seller", person=True, parent_id=shop.id)
    moved, release = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with sessions() as session, session.begin():
            await contacts.update(
                session=session, contact_id=shop.id, changes=ContactChanges(parent_id=new_parent.id), actor=SYSTEM
            )
            moved.set()
            await release.wait()

    t1 = asyncio.create_task(first())
    await moved.wait()
    t2 = asyncio.create_task(new_order(sessions, seller.id))
    try:
        await until_waiting_for_advisory_lock(sessions)  # the order queues on the hierarchy lock
        assert not t2.done(), "the order must wait for the move's hierarchy lock"
    finally:
        release.set()  # a failed check must not leave the move's transaction open
    await t1
    order_id = await t2
    async with sessions() as session:
        reached = set(
            (
                await session.execute(text("SELECT ancestor_id FROM order_reach WHERE order_id = :o"), {"o": order_id})
            ).scalars()
        )
    assert reached == {seller.id, shop.id, new_parent.id}
    await assert_exact(sessions)


async def test_a_move_while_an_order_is_written_waits_and_carries_the_order_along(sessions) -> None:
    """The other interleaving: T1 writes an order of a seller of the shop and holds it open; the
    move waits, then finds the committed order and moves its reach with the subtree."""
    old_parent = await make_contact(sessions, "Old")
    new_parent = await make_contact(sessions, "New")
    shop = await make_contact(sessions, "Shop", parent_id=old_parent.id)
    seller = await make_contact(sessions, "Seller", person=True, parent_id=shop.id)
    brand = await brand_id(sessions, "CC")
    written, release = asyncio.Event(), asyncio.Event()
    staff = viewer_for(
        roles=frozenset({"admin"}), contact_id=None, contact_type=ContactType.ORGANIZATION, parent_id=None
    )

    async def first() -> None:
        async with sessions() as session, session.begin():
            await orders.create(
                session=session,
                actor=SYSTEM,
                viewer=staff,
                order_in=OrderCreate(business_entity_id=brand, account_contact_id=seller.id),
            )
            written.set()
            await release.wait()

    t1 = asyncio.create_task(first())
    await written.wait()
    t2 = asyncio.create_task(move(sessions, shop.id, new_parent.id))
    try:
        await until_waiting_for_advisory_lock(sessions)  # the move queues behind the order's share of it
        assert not t2.done(), "the move must wait for the order's hold on the hierarchy"
    finally:
        release.set()  # a failed check must not leave the order's transaction open
    await t1
    await t2
    async with sessions() as session:
        reached = set((await session.execute(text("SELECT ancestor_id FROM order_reach"))).scalars())
    assert reached == {seller.id, shop.id, new_parent.id}
    await assert_exact(sessions)
