"""No cycles, even when two moves race: A under B while B under A, with real concurrency."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.audit.service import SYSTEM
from app.contacts import service
from app.contacts.errors import CycleDetected
from app.contacts.service import ContactChanges
from app.db import constraint_name
from tests.factories import gid, make_contact
from tests.support.api import gql
from tests.support.locks import until_waiting_for_advisory_lock

MOVE = """
mutation ($input: UpdateContactInput!) {
  updateContact(input: $input) { __typename ... on UserError { code } }
}
"""


async def has_cycle(session) -> bool:
    rows = (await session.execute(text("SELECT id, parent_organization_id FROM contact"))).all()
    parent = dict(rows)
    for start in parent:
        seen, current = set(), start
        while current is not None:
            if current in seen:
                return True
            seen.add(current)
            current = parent[current]
    return False


async def test_racing_moves_through_the_api(client, admin_token, sessions, session) -> None:
    """Twenty races, each two concurrent requests on their own connections."""
    outcomes = []
    for round_ in range(20):
        a = await make_contact(sessions, f"A{round_}")
        b = await make_contact(sessions, f"B{round_}")
        results = await asyncio.gather(
            gql(
                client,
                MOVE,
                {"input": {"id": gid("Contact", a.id), "parentId": gid("Contact", b.id)}},
                token=admin_token,
            ),
            gql(
                client,
                MOVE,
                {"input": {"id": gid("Contact", b.id), "parentId": gid("Contact", a.id)}},
                token=admin_token,
            ),
        )
        outcomes.append(sorted(r["updateContact"]["__typename"] for r in results))
    assert outcomes == [["ContactSuccess", "CycleDetected"]] * 20
    assert not await has_cycle(session)


async def test_the_second_move_waits_for_the_first_and_sees_it(sessions, session) -> None:
    """A deterministic interleaving: T1 moves A under B and holds its transaction open; T2's move
    of B under A must block until T1 commits, then be refused."""
    a = await make_contact(sessions, "A")
    b = await make_contact(sessions, "B")
    first_moved = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with sessions() as s, s.begin():
            await service.update(session=s, contact_id=a.id, changes=ContactChanges(parent_id=b.id), actor=SYSTEM)
            first_moved.set()
            await release_first.wait()

    async def second() -> None:
        await first_moved.wait()
        async with sessions() as s, s.begin():
            await service.update(session=s, contact_id=b.id, changes=ContactChanges(parent_id=a.id), actor=SYSTEM)

    t1 = asyncio.create_task(first())
    t2 = asyncio.create_task(second())
    await first_moved.wait()
    try:
        await until_waiting_for_advisory_lock(sessions)  # the second move queues on the hierarchy lock
        assert not t2.done(), "the second move must wait for the hierarchy lock"
    finally:
        release_first.set()  # a failed check must not leave the first move's transaction open
    await t1
    with pytest.raises(CycleDetected):
        await t2
    parents = dict((await session.execute(text("SELECT id, parent_organization_id FROM contact"))).all())
    assert parents == {a.id: b.id, b.id: None}


async def test_the_database_refuses_a_cycle_written_by_hand(sessions) -> None:
    a = await make_contact(sessions, "A")
    b = await make_contact(sessions, "B", parent_id=a.id)
    async with sessions() as s:
        with pytest.raises(IntegrityError) as caught:
            await s.execute(
                text("UPDATE contact SET parent_organization_id = :b WHERE id = :a"), {"a": a.id, "b": b.id}
            )
    assert constraint_name(caught.value) == "ck_contact_no_cycle"


async def test_the_database_refuses_a_person_as_parent(sessions) -> None:
    org = await make_contact(sessions, "Org")
    person = await make_contact(sessions, "P", person=True, parent_id=org.id)
    other = await make_contact(sessions, "Other")
    statements = [
        ("UPDATE contact SET parent_organization_id = :p WHERE id = :o", {"p": person.id, "o": other.id}),
        ("UPDATE contact SET contact_type = 'person' WHERE id = :o", {"o": org.id}),  # it has a member
    ]
    for statement, parameters in statements:
        async with sessions() as s:
            with pytest.raises(IntegrityError) as caught:
                await s.execute(text(statement), parameters)
        assert constraint_name(caught.value) == "ck_contact_parent_is_organization"
