"""Overdue work escalates (docs/notifications.md, "Scheduled work").

The hourly SLA monitor (`monitor`, the schedule `sla.monitor`) works as of a moment `now` (the
tests set it): every entity whose status is not final and whose SLA deadline lies before `now`
gets the stored overdue mark (`entity_current_status.overdue_since`, the deadline itself) and
one escalation: an internal task for the step's approving role (else `staff`) and, for an
order, an `order.sla_breached` event that notifications tell that role. A hold whose escalation
date has come while still on hold escalates once the same way (`order.hold_escalated`, a task
for `staff`).

Each step is a single conditional `UPDATE … RETURNING` (only unmarked rows are marked, only
unescalated holds escalated), so of two runs at once each row is taken by one, and a run
repeated later finds nothing new; the tasks carry an escalation key as well. A status change
clears the mark (the status engine writes the new status without it); resuming an order is a
status change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import policy
from app.access.policy import Viewer
from app.audit.service import Actor
from app.config import get_settings
from app.db import columns, read
from app.jobs import schedules
from app.jobs.queue import JobContext
from app.numbering.service import BUSINESS_TIMEZONE
from app.outbox import service as outbox
from app.status.models import EntityCurrentStatus, EntityType
from app.tasks import service as tasks
from app.tasks.models import TaskSource

MONITOR: Final = "sla.monitor"
SLA_BREACHED: Final = "order.sla_breached"
HOLD_ESCALATED: Final = "order.hold_escalated"
ACTOR: Final = Actor(account_id=None, system="sla_monitor")
ESCALATION_ROLE: Final = "staff"
TASK_DUE: Final = timedelta(hours=24)

# Marks what passed its deadline as of :now, once; says whom to escalate to.
_MARK = text(
    """
UPDATE entity_current_status c SET overdue_since = c.sla_deadline
FROM status_workflow_step s
WHERE s.workflow_id = c.workflow_id AND s.status_name = c.status AND NOT s.is_final
  AND c.sla_deadline < :now AND c.overdue_since IS NULL
RETURNING c.entity_type, c.entity_id, c.status, c.sla_deadline, c.last_transition_id, s.label, s.approval_role
"""
)
_HOLDS = text(
    """
UPDATE order_hold h SET escalated_at = :now
WHERE h.resumed_at IS NULL AND h.escalated_at IS NULL AND h.escalation_date <= :today
RETURNING h.id, h.order_id, h.reason_category, h.escalation_date
"""
)


@dataclass(frozen=True, slots=True)
class Escalated:
    marked: int
    holds: int

    def __str__(self) -> str:
        return f"{self.marked} overdue marked and escalated, {self.holds} holds escalated"


async def monitor(*, session: AsyncSession, now: datetime) -> Escalated:
    """One run as of `now`, in the caller's transaction."""
    breaches = (await session.execute(_MARK, {"now": now})).all()
    for breach in breaches:
        await _escalate_breach(session, breach, now)
    holds = (await session.execute(_HOLDS, {"now": now, "today": now.astimezone(BUSINESS_TIMEZONE).date()})).all()
    for hold in holds:
        await _escalate_hold(session, hold, now)
    return Escalated(len(breaches), len(holds))


async def _order_number(session: AsyncSession, order_id: uuid.UUID) -> str:
    return str(await session.scalar(text("SELECT number FROM sales_order WHERE id = :id"), {"id": order_id}))


async def _escalate(session: AsyncSession, task_in: tasks.TaskIn, event_type: str, payload: dict[str, Any]) -> None:
    """A task for the escalation's role and, for an order, the event that tells that role."""
    await tasks.create(session=session, task_in=task_in, actor=ACTOR)
    if task_in.order_id is not None:
        await outbox.record(
            session,
            event_type=event_type,
            entity_type=EntityType.ORDER.value,
            entity_id=task_in.order_id,
            order_id=task_in.order_id,
            payload=payload | {"role": task_in.assignee_role},
        )


async def _escalate_breach(session: AsyncSession, breach: Any, now: datetime) -> None:
    is_order = breach.entity_type == EntityType.ORDER.value
    subject = f"order {await _order_number(session, breach.entity_id)}" if is_order else breach.entity_type
    task_in = tasks.TaskIn(
        title=f"Overdue: {subject} is past its deadline in {breach.label}",
        details=f"The deadline of {breach.label} was {breach.sla_deadline.isoformat(timespec='minutes')}.",
        assignee_role=breach.approval_role or ESCALATION_ROLE,
        due_at=now + TASK_DUE,
        entity_type=breach.entity_type,
        entity_id=breach.entity_id,
        order_id=breach.entity_id if is_order else None,
        source=TaskSource.SLA_BREACH,
        dedupe_key=f"sla:{breach.entity_type}:{breach.entity_id}:{breach.last_transition_id}",
    )
    await _escalate(
        session, task_in, SLA_BREACHED, {"status": breach.status, "deadline": breach.sla_deadline.isoformat()}
    )


async def _escalate_hold(session: AsyncSession, hold: Any, now: datetime) -> None:
    number = await _order_number(session, hold.order_id)
    task_in = tasks.TaskIn(
        title=f"Hold escalated: order {number} is still waiting ({hold.reason_category})",
        details=f"Its escalation date was {hold.escalation_date.isoformat()}.",
        assignee_role=ESCALATION_ROLE,
        due_at=now + TASK_DUE,
        entity_type=EntityType.ORDER.value,
        entity_id=hold.order_id,
        order_id=hold.order_id,
        source=TaskSource.HOLD_ESCALATION,
        dedupe_key=f"hold:{hold.id}",
    )
    await _escalate(session, task_in, HOLD_ESCALATED, {"holdId": str(hold.id)})


async def breaches(*, session: AsyncSession, entity_type: str | None, viewer: Viewer) -> list[Any]:
    """What carries the overdue mark now, the longest overdue first."""
    stmt = select(*columns(EntityCurrentStatus)).where(
        EntityCurrentStatus.overdue_since.is_not(None), policy.visible(viewer, EntityCurrentStatus)
    )
    if entity_type is not None:
        stmt = stmt.where(EntityCurrentStatus.entity_type == entity_type)
    return await read(session, stmt.order_by(EntityCurrentStatus.overdue_since, EntityCurrentStatus.entity_id))


async def _hourly(context: JobContext, now: datetime) -> str:
    async with context.sessions() as session, session.begin():
        return str(await monitor(session=session, now=now))


def wire() -> None:
    schedules.register(
        schedules.Schedule(
            name=MONITOR,
            cron=get_settings().sla_monitor_cron,
            description="Marks what passed its SLA deadline and escalates it once; escalates holds on their date.",
            handler=_hourly,
        )
    )
