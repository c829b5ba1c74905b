"""A request's read sessions (graphql_schema/context.py): batches that ask at once get sessions of
their own up to the limit, the rest wait their turn; closing waits for the statements in flight,
turns the waiting away, and nothing reads after it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from app.access.policy import STAFF
from graphql_schema.context import ReadSession, RequestClosed


async def test_batches_share_up_to_the_limit_and_closing_waits_for_them(sessions) -> None:
    reads = ReadSession(sessions())
    reads.widen(lambda: sessions(info={"viewer": STAFF}), 2)
    inside: list[object] = []
    release = asyncio.Event()

    async def batch() -> int:
        async with reads.use() as session:
            inside.append(session)
            await release.wait()
            return int((await session.execute(text("SELECT 1"))).scalar_one())

    first, second, third = (asyncio.create_task(batch()) for _ in range(3))
    await asyncio.sleep(0.05)
    assert len(inside) == 2 and inside[0] is not inside[1]  # two sessions at once, the third waits
    closing = asyncio.create_task(reads.close())
    await asyncio.sleep(0.05)
    assert not closing.done()  # the statements in flight finish first
    release.set()
    assert list(await asyncio.wait_for(asyncio.gather(first, second), 5)) == [1, 1]
    with pytest.raises(RequestClosed):
        await asyncio.wait_for(third, 5)  # the one still waiting is turned away
    await asyncio.wait_for(closing, 5)
    with pytest.raises(RequestClosed):
        async with reads.use():
            pass


async def test_one_session_serves_one_batch_at_a_time_without_widening(sessions) -> None:
    reads = ReadSession(sessions())
    order: list[str] = []

    async def batch(name: str) -> None:
        async with reads.use() as session:
            order.append(f"{name} in")
            await session.execute(text("SELECT pg_sleep(0.02)"))
            order.append(f"{name} out")

    await asyncio.gather(batch("a"), batch("b"))
    assert order == ["a in", "a out", "b in", "b out"]
    await reads.close()


async def test_closing_with_one_batch_in_flight_and_one_waiting(sessions) -> None:
    reads = ReadSession(sessions())
    release = asyncio.Event()

    async def batch() -> None:
        async with reads.use():
            await release.wait()

    in_flight, waiting = asyncio.create_task(batch()), asyncio.create_task(batch())
    await asyncio.sleep(0.02)
    closing = asyncio.create_task(reads.close())
    await asyncio.sleep(0.02)
    release.set()
    await asyncio.wait_for(in_flight, 5)
    with pytest.raises(RequestClosed):
        await asyncio.wait_for(waiting, 5)
    await asyncio.wait_for(closing, 5)  # woken too, though the waiter left without a session
