"""`chargecars worker`: runs the queued jobs (docs/integration.md, "The job queue").

Any number of workers, on any number of machines, share one database: PgQueuer hands each job
to one of them (`FOR UPDATE SKIP LOCKED`), wakes them on LISTEN/NOTIFY when a transaction
queues work, and gives a job whose worker stopped beating to another. SIGTERM and SIGINT stop
taking jobs and let the running ones finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta

import asyncpg
import httpx
from pgqueuer import QueueManager
from pgqueuer.models import Job
from sqlalchemy.engine import URL

from app.config import Settings
from app.db import create_engine, session_factory
from app.dbserver import asyncpg_dsn
from app.jobs.queue import JobContext, handlers, queries_on, run_job

log = logging.getLogger("chargecars.worker")


def _manager(connection: asyncpg.Connection, context: JobContext) -> QueueManager:
    manager = QueueManager(queries_on(connection))
    for name in sorted(handlers()):

        async def run(job: Job, name: str = name) -> None:
            await run_job(context, name, job.payload)

        manager.entrypoint(name, accepts_context=False)(run)
    return manager


async def work(url: URL, settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run jobs until SIGTERM/SIGINT (or `stop`, for a worker inside another process)."""
    concurrency = max(2, settings.job_concurrency)
    engine = create_engine(url, pool_size=concurrency, max_overflow=0)
    connection = await asyncpg.connect(**asyncpg_dsn(url), server_settings={"jit": "off"})
    try:
        async with httpx.AsyncClient(timeout=settings.webhook_timeout_seconds, follow_redirects=False) as http:
            manager = _manager(connection, JobContext(session_factory(engine), settings, http))
            loop = asyncio.get_running_loop()
            if stop is None:
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(signum, manager.shutdown.set)
            else:
                loop.create_task(_relay(stop, manager.shutdown))
            log.info("worker %s runs %s", manager.queue_manager_id, ", ".join(sorted(handlers())))
            await manager.run(
                dequeue_timeout=timedelta(seconds=settings.job_poll_seconds),
                batch_size=concurrency // 2,
                max_concurrent_tasks=concurrency // 2 * 2,
                heartbeat_timeout=timedelta(seconds=settings.job_heartbeat_seconds),
            )
    finally:
        with contextlib.suppress(Exception):
            await connection.close(timeout=5)
        await engine.dispose()


async def _relay(stop: asyncio.Event, shutdown: asyncio.Event) -> None:
    await stop.wait()
    shutdown.set()
