"""Installer performance per installer and per team over a period, computed in one statement from
visits, work orders and the status history (docs/operations.md, "Installer performance"):

- visits done: visits in status done that started in the period, on which the installer (a
  member of the team) was booked;
- on-time arrivals: of those, the ones it entered "on site" at most ON_TIME_GRACE after the
  visit's start (of those whose arrival is recorded);
- average minutes on site: from entering "on site" to entering "done";
- installations completed: installation work orders first completed in the period, on whose
  done visits the installer was booked; first-time fixes: those with exactly one done visit;
- rework: work orders it worked on moved back out of "completed" in the period.

Everything is counted over what the viewer may see (each table read through the visibility
policy): a partner sees the installers in its scope and the visits and work orders they are
booked on; teams are staff's.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import policy
from app.access.policy import Viewer
from app.contacts.models import Contact
from app.operations.models import InstallerTeamMember, Visit, VisitInstaller, WorkOrder, WorkOrderKind
from app.operations.visits import checked_period, installers_where
from app.status.models import EntityType, Movement, StatusTransition

ON_TIME_GRACE: Final = timedelta(minutes=15)
MAX_PERIOD: Final = timedelta(days=366)


def _statement(viewer: Viewer, members: Sequence[tuple[uuid.UUID, uuid.UUID]], start: datetime, end: datetime) -> Any:
    """One statement over what `viewer` may see of visits, bookings, work orders and their status
    history (each read through the visibility policy): a row of figures per group of installers."""
    ids = ARRAY(UUID(as_uuid=True))
    member = (
        func.unnest(
            bindparam("groups", [g for g, _ in members], type_=ids),
            bindparam("installers", [i for _, i in members], type_=ids),
        )
        .table_valued("group_id", "installer_id")
        .render_derived()
    )
    visit = (
        select(Visit.id, Visit.starts_at, Visit.work_order_id, Visit.status)
        .where(policy.visible(viewer, Visit))
        .cte("seen_visit")
    )
    booking = (
        select(VisitInstaller.visit_id, VisitInstaller.installer_contact_id)
        .where(policy.visible(viewer, VisitInstaller))
        .cte("seen_booking")
    )
    work = select(WorkOrder.id, WorkOrder.kind).where(policy.visible(viewer, WorkOrder)).cte("seen_work_order")
    history = select(
        StatusTransition.entity_type, StatusTransition.entity_id, StatusTransition.from_status,
        StatusTransition.to_status, StatusTransition.movement, StatusTransition.created_at,
    ).where(
        StatusTransition.entity_type.in_((EntityType.VISIT.value, EntityType.WORK_ORDER.value)),
        policy.visible(viewer, StatusTransition),
    ).cte("seen_history")  # fmt: skip
    by_member = (
        select(member.c.group_id, visit.c.id, visit.c.starts_at, visit.c.work_order_id)
        .join(booking, booking.c.installer_contact_id == member.c.installer_id)
        .join(visit, visit.c.id == booking.c.visit_id)
        .where(visit.c.status == "done")
        .distinct()
        .cte("done_by_group")
    )
    arrival = (
        select(
            history.c.entity_id,
            func.min(history.c.created_at).filter(history.c.to_status == "on_site").label("arrived"),
            func.max(history.c.created_at).filter(history.c.to_status == "done").label("finished"),
        )
        .where(history.c.entity_type == EntityType.VISIT.value)
        .group_by(history.c.entity_id)
        .cte("arrival")
    )
    in_period = and_(by_member.c.starts_at >= start, by_member.c.starts_at < end)
    minutes = func.extract("epoch", arrival.c.finished - arrival.c.arrived) / 60
    visit_figures = (
        select(
            by_member.c.group_id,
            func.count().label("visits_done"),
            func.count(arrival.c.arrived).label("arrivals_recorded"),
            func.count().filter(arrival.c.arrived <= by_member.c.starts_at + ON_TIME_GRACE).label("on_time"),
            func.avg(minutes).filter(arrival.c.arrived.is_not(None), arrival.c.finished.is_not(None)).label("minutes"),
        )
        .select_from(by_member.outerjoin(arrival, arrival.c.entity_id == by_member.c.id))
        .where(in_period)
        .group_by(by_member.c.group_id)
        .cte("visit_figures")
    )
    worked = select(by_member.c.group_id, by_member.c.work_order_id.label("id")).where(
        by_member.c.work_order_id.is_not(None)
    ).distinct().cte("worked")  # fmt: skip
    first_completed = (
        select(func.min(history.c.created_at))
        .where(history.c.entity_type == EntityType.WORK_ORDER.value, history.c.entity_id == worked.c.id,
               history.c.to_status == "completed")
        .scalar_subquery()
    )  # fmt: skip
    done_visits = (
        select(func.count()).where(visit.c.work_order_id == worked.c.id, visit.c.status == "done").scalar_subquery()
    )
    completed = (
        select(worked.c.group_id, done_visits.label("done_visits"))
        .join(work, work.c.id == worked.c.id)
        .where(work.c.kind == WorkOrderKind.INSTALLATION.value, first_completed >= start, first_completed < end)
        .cte("completed")
    )
    completion_figures = (
        select(
            completed.c.group_id,
            func.count().label("installations"),
            func.count().filter(completed.c.done_visits == 1).label("first_time_fixes"),
        )
        .group_by(completed.c.group_id)
        .cte("completion_figures")
    )
    rework = (
        select(worked.c.group_id, func.count().label("rework"))
        .join(history, and_(history.c.entity_type == EntityType.WORK_ORDER.value, history.c.entity_id == worked.c.id))
        .where(
            history.c.from_status == "completed",
            history.c.movement == Movement.BACKWARD,
            history.c.created_at >= start,
            history.c.created_at < end,
        )
        .group_by(worked.c.group_id)
        .cte("rework")
    )
    groups = select(member.c.group_id).distinct().subquery("each_group")
    return select(
        groups.c.group_id,
        func.coalesce(visit_figures.c.visits_done, 0).label("visits_done"),
        func.coalesce(visit_figures.c.arrivals_recorded, 0).label("arrivals_recorded"),
        func.coalesce(visit_figures.c.on_time, 0).label("on_time"),
        visit_figures.c.minutes,
        func.coalesce(completion_figures.c.installations, 0).label("installations"),
        func.coalesce(completion_figures.c.first_time_fixes, 0).label("first_time_fixes"),
        func.coalesce(rework.c.rework, 0).label("rework"),
    ).select_from(
        groups.outerjoin(visit_figures, visit_figures.c.group_id == groups.c.group_id)
        .outerjoin(completion_figures, completion_figures.c.group_id == groups.c.group_id)
        .outerjoin(rework, rework.c.group_id == groups.c.group_id)
    )


@dataclass(frozen=True, slots=True)
class Figures:
    subject_id: uuid.UUID
    """The installer's contact, or the team."""
    visits_done: int
    arrivals_recorded: int
    on_time_arrivals: int
    average_minutes_on_site: float | None
    installations_completed: int
    first_time_fixes: int
    rework: int

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time_arrivals / self.arrivals_recorded if self.arrivals_recorded else None

    @property
    def first_time_fix_rate(self) -> float | None:
        return self.first_time_fixes / self.installations_completed if self.installations_completed else None


async def _figures(
    session: AsyncSession,
    members: Sequence[tuple[uuid.UUID, uuid.UUID]],
    start: datetime,
    end: datetime,
    viewer: Viewer,
) -> dict[uuid.UUID, Figures]:
    if not members:
        return {}
    rows = await session.execute(_statement(viewer, members, start, end))
    return {
        row.group_id: Figures(
            subject_id=row.group_id,
            visits_done=row.visits_done,
            arrivals_recorded=row.arrivals_recorded,
            on_time_arrivals=row.on_time,
            average_minutes_on_site=round(float(row.minutes), 1) if row.minutes is not None else None,
            installations_completed=row.installations,
            first_time_fixes=row.first_time_fixes,
            rework=row.rework,
        )
        for row in rows
    }


def _period(start: datetime, end: datetime) -> None:
    checked_period(
        start, end, longest=MAX_PERIOD, refusal="The period ends after it starts, within a year.",
        fields=("starts_from", "ends_before"),
    )  # fmt: skip


async def per_installer(*, session: AsyncSession, start: datetime, end: datetime, viewer: Viewer) -> list[Figures]:
    """Every installer the viewer sees in full (staff: all; a partner: those in its scope)."""
    _period(start, end)
    by_name = installers_where(policy.in_scope(viewer, Contact.id)).order_by(Contact.display_name, Contact.id)
    installers = list(await session.scalars(by_name))
    found = await _figures(session, [(i, i) for i in installers], start, end, viewer)
    return [found[i] for i in installers]


async def per_team(*, session: AsyncSession, start: datetime, end: datetime, viewer: Viewer) -> list[Figures]:
    """Every team (staff's): a visit counts once for a team however many members were on it."""
    _period(start, end)
    members: list[Any] = list(
        await session.execute(
            select(InstallerTeamMember.team_id, InstallerTeamMember.installer_contact_id)
            .where(policy.visible(viewer, InstallerTeamMember))
            .order_by(InstallerTeamMember.team_id)
        )
    )
    found = await _figures(session, [(m.team_id, m.installer_contact_id) for m in members], start, end, viewer)
    return list(found.values())
