"""`chargecars worker`: runs the queued jobs and the scheduled ones (docs/integration.md, "The
job queue"; docs/notifications.md, "Scheduled work").

Any number of workers, on any number of machines, share one database: PgQueuer hands each job
to one of them (`FOR UPDATE SKIP LOCKED`), wakes them on LISTEN/NOTIFY when a transaction
queues work, and gives a job whose worker stopped beating to another. Its scheduler, in every
worker, hands each due tick of a schedule to one worker. SIGTERM and SIGINT stop taking jobs
and let the running ones finish.
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
from pgqueuer.models import Job, Schedule
from pgqueuer.sm import SchedulerManager
from sqlalchemy.engine import URL

from app.config import Settings
from app.db import create_engine, session_factory
from app.dbserver import asyncpg_dsn
from app.jobs import schedules
from app.jobs.queue import JobContext, handlers, queries_on, run_job

log = logging.getLogger("chargecars.worker")


def _manager(connection: asyncpg.Connection, context: JobContext) -> QueueManager:
    manager = QueueManager(queries_on(connection))
    for name in sorted(handlers()):

        async def run(job: Job, name: str = name) -> None:
            await run_job(context, name, job.payload)

        manager.entrypoint(name, accepts_context=False)(run)
    return manager


def _scheduler(connection: asyncpg.Connection, context: JobContext) -> SchedulerManager:
    scheduler = SchedulerManager(queries_on(connection))
    for schedule in schedules.registered():

        async def tick(_: Schedule, schedule: schedules.Schedule = schedule) -> None:
            await schedules.run(context, schedule)

        scheduler.schedule(schedule.name, schedule.cron, accepts_context=False)(tick)
    return scheduler


async def work(url: URL, settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run jobs and schedules until SIGTERM/SIGINT (or `stop`, for a worker inside another
    process)."""
    concurrency = max(2, settings.job_concurrency)
    engine = create_engine(
        url,
        pool_size=concurrency,
        max_overflow=0,
        transaction_pooler=settings.database_pooler == "transaction",
    )
    connection = await asyncpg.connect(**asyncpg_dsn(url), server_settings={"jit": "off"})
    schedule_connection = await asyncpg.connect(**asyncpg_dsn(url), server_settings={"jit": "off"})
    try:
        async with httpx.AsyncClient(timeout=settings.webhook_timeout_seconds, follow_redirects=False) as http:
            context = JobContext(session_factory(engine), settings, http)
            manager = _manager(connection, context)
            scheduler = _scheduler(schedule_connection, context)
            loop = asyncio.get_running_loop()
            if stop is None:
                stop = asyncio.Event()
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(signum, stop.set)
            loop.create_task(_relay(stop, manager.shutdown, scheduler.shutdown))
            log.info("worker %s runs %s", manager.queue_manager_id, ", ".join(sorted(handlers())))
            await asyncio.gather(
                manager.run(
                    dequeue_timeout=timedelta(seconds=settings.job_poll_seconds),
                    batch_size=concurrency // 2,
                    max_concurrent_tasks=concurrency // 2 * 2,
                    heartbeat_timeout=timedelta(seconds=settings.job_heartbeat_seconds),
                ),
                scheduler.run(),
            )
    finally:
        for opened in (connection, schedule_connection):
            with contextlib.suppress(Exception):
                await opened.close(timeout=5)
        await engine.dispose()


async def _relay(stop: asyncio.Event, *shutdowns: asyncio.Event) -> None:
    await stop.wait()
    for shutdown in shutdowns:
        shutdown.set()
