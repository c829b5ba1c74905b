"""Scheduled jobs: what runs on a cron schedule, and a record of every run
(docs/notifications.md, "Scheduled work").

A domain registers a schedule (`register`) from its `wire()`; every `chargecars worker` runs
PgQueuer's scheduler, which hands each due tick to one worker only (the schedule's row is taken
with `FOR UPDATE SKIP LOCKED`), however many run. A run is recorded in `schedule_run` (start,
end, outcome, what it did), so staff can see the last run of each schedule. A handler is
idempotent: it may run again (a worker that died mid-run, a tick run by hand).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from croniter import croniter
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import columns, read
from app.jobs.models import ScheduleRun
from app.jobs.queue import JobContext

log = logging.getLogger("chargecars.schedules")

Handler = Callable[[JobContext, datetime], Awaitable[str]]
"""Runs the job as of a moment; answers what it did, in a few words."""


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    cron: str
    description: str
    handler: Handler

    def next_at(self, after: datetime) -> datetime:
        found: datetime = croniter(self.cron, after).get_next(datetime)
        return found


_schedules: dict[str, Schedule] = {}


def register(schedule: Schedule) -> None:
    if _schedules.get(schedule.name, schedule) != schedule:
        raise RuntimeError(f"schedule {schedule.name!r} already registered")
    _schedules[schedule.name] = schedule


def registered() -> list[Schedule]:
    return sorted(_schedules.values(), key=lambda s: s.name)


async def run(context: JobContext, schedule: Schedule, now: datetime | None = None) -> ScheduleRun:
    """One run of `schedule`, recorded: started, then its outcome and what it did. A failure is
    recorded (and logged once), never raised: the next tick comes anyway."""
    now = now or datetime.now(UTC)
    async with context.sessions() as session, session.begin():
        entry = ScheduleRun(name=schedule.name, started_at=datetime.now(UTC), worker=context.worker)
        session.add(entry)
    outcome, detail = "ok", ""
    try:
        detail = await schedule.handler(context, now)
    except Exception as exc:
        log.error("schedule %s failed: %s", schedule.name, exc, exc_info=exc)
        outcome, detail = "failed", f"{type(exc).__name__}: {exc}"
    async with context.sessions() as session, session.begin():
        await session.execute(
            update(ScheduleRun)
            .where(ScheduleRun.id == entry.id)
            .values(finished_at=datetime.now(UTC), outcome=outcome, detail=detail[:2000])
        )
    entry.outcome, entry.detail = outcome, detail
    return entry


async def last_runs(session: AsyncSession) -> dict[str, Any]:
    """The latest run of each schedule, by name."""
    latest = select(ScheduleRun.name, func.max(ScheduleRun.id).label("id")).group_by(ScheduleRun.name).subquery()
    rows = await read(session, select(*columns(ScheduleRun)).join(latest, latest.c.id == ScheduleRun.id))
    return {row.name: row for row in rows}
