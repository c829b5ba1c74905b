"""Waiting for a transaction to queue on a lock, instead of sleeping and hoping it got there."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.contacts.service import HIERARCHY_LOCK_KEY

PATIENCE_S = 10.0


async def until_waiting_for_advisory_lock(
    sessions: async_sessionmaker[AsyncSession], key: int = HIERARCHY_LOCK_KEY
) -> None:
    """Return once some transaction waits for the transaction-level advisory lock `key` (the
    hierarchy's, by default); AssertionError if none does within `PATIENCE_S` seconds."""
    waiting = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND classid = :high AND objid = :low AND objsubid = 1"
    )
    deadline = asyncio.get_running_loop().time() + PATIENCE_S
    async with sessions() as session:
        while True:
            found = (await session.execute(waiting, {"high": key >> 32, "low": key & 0xFFFFFFFF})).scalar_one()
            await session.rollback()
            if found:
                return
            assert asyncio.get_running_loop().time() < deadline, f"nothing waits for advisory lock {key}"
            await asyncio.sleep(0.02)
