"""The job worker in tests: in the test's process or in processes of its own, with retries,
timeouts and heartbeats in fractions of seconds, and waiting until its work is done."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.jobs.worker import work
from app.serving import free_port

FAST = {
    "webhook_retry_delays": (0.2,) * 7,
    "notification_retry_delays": (0.2,) * 6,
    "webhook_timeout_seconds": 1.0,
    "job_heartbeat_seconds": 2.0,
    "job_poll_seconds": 0.2,
}
"""Retries, timeouts and heartbeats in fractions of seconds instead of minutes."""


def fast_env(**overrides: Any) -> dict[str, str]:
    """FAST (and `overrides`) as the environment of a `chargecars worker` process."""
    values = {**FAST, **overrides}
    return {
        f"CHARGECARS_{name.upper()}": ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        for name, value in values.items()
    } | {
        "CHARGECARS_LOG_LEVEL": "warning",
        # no mail server there: a developer's own mailbox (`make run`, port 1025) gets no test mail
        "CHARGECARS_SMTP_PORT": str(free_port()),
    }


@asynccontextmanager
async def worker(database_url: URL, settings: Settings, **overrides: Any) -> AsyncIterator[None]:
    """A worker in this process (FAST unless `overrides` say otherwise) until the block ends."""
    stop = asyncio.Event()
    task = asyncio.create_task(work(database_url, settings.model_copy(update={**FAST, **overrides}), stop=stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def until(condition: Callable[[], Any], within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


async def all_settled(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Every outbox event dispatched, every delivery delivered or dead, every message past sending."""
    async with sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT (SELECT count(*) FROM webhook_delivery WHERE status NOT IN ('delivered', 'dead')) "
                    "+ (SELECT count(*) FROM communication WHERE status IN ('queued', 'sending')) AS waiting, "
                    "(SELECT count(*) FROM outbox_event WHERE dispatched_at IS NULL) AS undispatched"
                )
            )
        ).one()
    return row.waiting == 0 and row.undispatched == 0
