"""The job queue: PgQueuer on the application's PostgreSQL (docs/integration.md, "The job queue").

Jobs are enqueued on the connection of the transaction that wants them (`enqueue`), so a job
exists exactly when that transaction commits. Domains register what runs a job by name
(`register`, from their `wire()`); `chargecars worker` (`app/jobs/worker.py`) runs them. A job
may run more than once (a worker killed after the work but before PgQueuer recorded it is
re-picked once its heartbeat is stale): every handler is idempotent.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import orjson
from pgqueuer import Queries
from pgqueuer.adapters.drivers.asyncpg import AsyncpgDriver
from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment, QueryQueueBuilder, QuerySchedulerBuilder
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import db
from app.config import Settings

_ENVIRONMENT = QueryBuilderEnvironment()
_QUEUE = QueryQueueBuilder()
_SCHEDULES = QuerySchedulerBuilder()

QUEUE_TABLES = frozenset(
    {
        _ENVIRONMENT.settings.queue_table,
        _ENVIRONMENT.settings.queue_table_log,
        _ENVIRONMENT.settings.statistics_table,
        _ENVIRONMENT.settings.schedules_table,
    }
)
"""PgQueuer's own tables (migration 0013): not application models."""


def worker_name() -> str:
    """This process as a worker: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclasses.dataclass(frozen=True, slots=True)
class JobContext:
    """What a running job may use: sessions as the owner (jobs are system processes), the
    settings, the worker's HTTP client and its name (what it records as the maker of its work)."""

    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    http: httpx.AsyncClient
    worker: str = dataclasses.field(default_factory=worker_name)


Handler = Callable[[JobContext, dict[str, Any]], Awaitable[None]]

_handlers: dict[str, Handler] = {}


def register(name: str, handler: Handler) -> None:
    """Run `handler` for the jobs named `name` (once, however often registered)."""
    if _handlers.get(name, handler) is not handler:
        raise RuntimeError(f"job {name!r} already has a handler")
    _handlers[name] = handler


def handlers() -> dict[str, Handler]:
    return dict(_handlers)


def queries_on(connection: Any) -> Queries:
    """PgQueuer's queries over one asyncpg connection."""
    return Queries(AsyncpgDriver(connection), qbe=_ENVIRONMENT, qbq=_QUEUE, qbs=_SCHEDULES)


async def _asyncpg_connection(session: AsyncSession) -> Any:
    connection = await session.connection()
    await connection.run_sync(db.settle)  # the viewer's settings first, which the driver's own statements skip
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def enqueue(
    session: AsyncSession,
    name: str,
    payload: dict[str, Any],
    *,
    delay: timedelta | None = None,
    dedupe_key: str | None = None,
) -> None:
    """Queue the job `name` in the session's transaction: it exists once that commits, and not
    if it rolls back. With `dedupe_key`, a job of that key already queued or running is kept
    and this one dropped."""
    queries = queries_on(await _asyncpg_connection(session))
    await queries.enqueue(name, orjson.dumps(payload), execute_after=delay, dedupe_key=dedupe_key, on_conflict="skip")


async def run_job(context: JobContext, name: str, payload: bytes | None) -> None:
    await _handlers[name](context, orjson.loads(payload or b"{}"))
