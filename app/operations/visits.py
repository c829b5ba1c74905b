"""Visits: field appointments for an order (or a quote: an inspection before quoting), with their
installers, booked so that no installer is ever on two visits at overlapping times — the
database refuses it (`visit_installer`'s exclusion constraint) and the refusal is answered as a
`SchedulingConflict` naming the clash. Planners ask `available_slots`; what was found on site is
a `SiteSurvey` (docs/operations.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app import events, text
from app.access import policy, reads
from app.access.policy import Viewer
from app.audit.service import Actor, record
from app.contacts.models import Contact, ContactType
from app.db import any_of, columns, constraint_name, grouped, read
from app.errors import NotFound, ValidationFailed
from app.numbering.service import BUSINESS_TIMEZONE
from app.operations.errors import SchedulingConflict
from app.operations.models import (
    InstallerTeam,
    InstallerTeamMember,
    MeterCabinet,
    Mounting,
    Quote,
    SiteSurvey,
    Visit,
    VisitInstaller,
    VisitType,
    WorkOrder,
)
from app.orders.models import Order
from app.status import engine
from app.status.engine import StatusChanged
from app.status.models import EntityType
from app.status.registry import EntityAdapter, register

VISIT: Final = EntityType.VISIT.value
INSTALLER_SUBTYPE: Final = "installer"
"""Installers are the people of an organisation whose subtype is Installer."""
MAX_DURATION: Final = timedelta(hours=12)
MAX_INSTALLERS: Final = 10
RESCHEDULABLE: Final = ("planned", "confirmed")
RELEASED: Final = ("cancelled",)
"""Statuses that free the installers' time (a no-show took the time: the installer went)."""
WORKDAY: Final = (time(8, 0), time(17, 0))
"""Slots are offered Monday to Friday within these hours, in the business's time zone."""
SLOT_STEP: Final = timedelta(minutes=30)
MAX_SLOT_PERIOD: Final = timedelta(days=31)
_ADDRESS: Final = ("street", "house_number", "postal_code", "city")


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitIn:
    order_id: uuid.UUID | None = None
    quote_id: uuid.UUID | None = None
    visit_type: VisitType
    starts_at: datetime
    ends_at: datetime
    installer_ids: Sequence[uuid.UUID] = ()
    team_id: uuid.UUID | None = None
    work_order_id: uuid.UUID | None = None
    street: str | None = None
    house_number: str | None = None
    postal_code: str | None = None
    city: str | None = None
    notes: str | None = None


def checked_period(
    start: datetime, end: datetime, *, longest: timedelta, refusal: str, fields: tuple[str, str]
) -> tuple[datetime, datetime]:
    """`start` and `end`, with their offsets, the end after the start and at most `longest`
    later; otherwise ValidationFailed (`refusal`) naming the start's or the end's field."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed("Give times with their offset (ISO 8601).", field=fields[0])
    if not start < end <= start + longest:
        raise ValidationFailed(refusal, field=fields[1])
    return start, end


def _window(starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    return checked_period(
        starts_at,
        ends_at,
        longest=MAX_DURATION,
        refusal="A visit ends after it starts, within 12 hours.",
        fields=("starts_at", "ends_at"),
    )


async def installers_of(
    session: AsyncSession, installer_ids: Sequence[uuid.UUID], team_id: uuid.UUID | None
) -> list[uuid.UUID]:
    """The installers named and the team's members, each once, checked: each is a person of an
    installer organisation."""
    wanted = list(dict.fromkeys(installer_ids))
    if team_id is not None:
        members = list(
            await session.scalars(
                select(InstallerTeamMember.installer_contact_id)
                .where(InstallerTeamMember.team_id == team_id)
                .order_by(InstallerTeamMember.installer_contact_id)
            )
        )
        if not members:
            raise NotFound("InstallerTeam", team_id, field="team_id")
        wanted += [m for m in members if m not in wanted]
    if not wanted:
        raise ValidationFailed("Book at least one installer (or a team).", field="installer_ids")
    if len(wanted) > MAX_INSTALLERS:
        raise ValidationFailed(f"A visit has at most {MAX_INSTALLERS} installers.", field="installer_ids")
    found = set(await session.scalars(installers_where(any_of(Contact.id, wanted))))
    for installer in wanted:
        if installer not in found:
            raise ValidationFailed(
                f"Contact {installer} is not a person of an installer organisation.", field="installer_ids"
            )
    return wanted


def installers_where(*conditions: Any) -> Any:
    """The ids of the installers (persons of an organisation whose subtype is Installer) that
    meet `conditions`."""
    organisation = Contact.__table__.alias("organisation")
    return (
        select(Contact.id)
        .join(organisation, organisation.c.id == Contact.parent_organization_id)
        .where(
            Contact.contact_type == ContactType.PERSON,
            func.lower(organisation.c.contact_subtype) == INSTALLER_SUBTYPE,
            *conditions,
        )
    )


async def _book(session: AsyncSession, visit: Visit, installers: list[uuid.UUID]) -> None:
    """Book the installers, or raise SchedulingConflict naming a clash (the constraint decides,
    also between two transactions booking at once: the second waits for the first)."""
    visit_id = visit.id
    during = Range(visit.starts_at, visit.ends_at, bounds="[)")
    try:
        async with session.begin_nested():
            await session.execute(
                insert(VisitInstaller),
                [
                    {"visit_id": visit_id, "installer_contact_id": i, "order_id": visit.order_id,
                     "quote_id": visit.quote_id, "during": during}
                    for i in installers
                ],
            )  # fmt: skip
    except DBAPIError as exc:
        if constraint_name(exc) != "no_double_booking":
            raise
        clash = (
            await session.execute(
                select(
                    VisitInstaller.installer_contact_id,
                    Contact.display_name,
                    VisitInstaller.visit_id,
                    Visit.starts_at,
                    Visit.ends_at,
                )
                .join(Visit, Visit.id == VisitInstaller.visit_id)
                .join(Contact, Contact.id == VisitInstaller.installer_contact_id)
                .where(
                    any_of(VisitInstaller.installer_contact_id, installers),
                    VisitInstaller.holds,
                    VisitInstaller.visit_id != visit_id,
                    VisitInstaller.during.overlaps(during),
                )
                .order_by(Visit.starts_at)
                .limit(1)
            )
        ).one()
        raise SchedulingConflict(
            installer_id=clash.installer_contact_id,
            installer_name=clash.display_name,
            visit_id=clash.visit_id,
            starts_at=clash.starts_at,
            ends_at=clash.ends_at,
        ) from None


async def _booked(
    session: AsyncSession,
    actor: Actor,
    action: str,
    visit: Visit,
    installers: list[uuid.UUID],
    *,
    before: dict[str, Any] | None,
) -> None:
    """Book the visit's installers for its times, and audit it."""
    await _book(session, visit, installers)
    after = {"starts_at": visit.starts_at.isoformat(), "ends_at": visit.ends_at.isoformat(), "installers": installers}
    await record(
        session=session, actor=actor, action=action, entity_type=VISIT, entity_id=visit.id, before=before, after=after
    )


async def _parent(session: AsyncSession, visit_in: VisitIn) -> tuple[uuid.UUID, dict[str, Any]]:
    """The brand of the order (or quote) the visit is for, and the end customer's address."""
    if (visit_in.order_id is None) == (visit_in.quote_id is None):
        raise ValidationFailed("A visit is for an order or for a quote.", field="order_id")
    model: Any = Order if visit_in.order_id is not None else Quote
    parent_id = visit_in.order_id if visit_in.order_id is not None else visit_in.quote_id
    assert parent_id is not None, "one of the two is given"
    parent = await session.get(model, parent_id)
    if parent is None:
        raise NotFound(model.__name__, parent_id, field="order_id" if model is Order else "quote_id")
    if visit_in.work_order_id is not None:
        work_order = await session.get(WorkOrder, visit_in.work_order_id)
        if work_order is None or work_order.order_id != visit_in.order_id:
            raise NotFound("WorkOrder", visit_in.work_order_id, field="work_order_id")
    address: dict[str, Any] = {}
    if parent.end_customer_contact_id is not None:
        customer = await session.get(Contact, parent.end_customer_contact_id)
        address = {f: getattr(customer, f) for f in _ADDRESS}
    return parent.business_entity_id, address


async def schedule(*, session: AsyncSession, visit_in: VisitIn, actor: Actor) -> Visit:
    """A planned visit with its installers booked; the address defaults to the end customer's."""
    starts_at, ends_at = _window(visit_in.starts_at, visit_in.ends_at)
    business_entity_id, address = await _parent(session, visit_in)
    given = {f: text.line(getattr(visit_in, f), field=f, max_length=100) for f in _ADDRESS}
    if any(given.values()):
        address = given
    installers = await installers_of(session, visit_in.installer_ids, visit_in.team_id)
    workflow = await engine.workflow_for(session=session, entity_type=VISIT, business_entity_id=None)
    visit = Visit(
        business_entity_id=business_entity_id,
        order_id=visit_in.order_id,
        quote_id=visit_in.quote_id,
        work_order_id=visit_in.work_order_id,
        team_id=visit_in.team_id,
        visit_type=visit_in.visit_type.value,
        starts_at=starts_at,
        ends_at=ends_at,
        notes=text.text(visit_in.notes, field="notes", max_length=text.LONG_TEXT_LENGTH),
        status=workflow.first_step.status_name,
        created_by_account_id=actor.account_id,
        **address,
    )
    session.add(visit)
    await session.flush()
    await _booked(session, actor, "visit.schedule", visit, installers, before=None)
    await engine.initialize(session=session, entity_type=VISIT, entity=visit, workflow=workflow, actor=actor)
    return visit


async def reschedule(
    *,
    session: AsyncSession,
    visit_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
    installer_ids: Sequence[uuid.UUID] | None,
    team_id: uuid.UUID | None,
    actor: Actor,
) -> Visit:
    """New times (and, when given, other installers) for a planned or confirmed visit."""
    visit = await session.get(Visit, visit_id, with_for_update=True, populate_existing=True)
    if visit is None:
        raise NotFound("Visit", visit_id, field="id")
    if visit.status not in RESCHEDULABLE:
        raise ValidationFailed(f"The visit is {visit.status}; a visit is moved while planned or confirmed.", field="id")
    starts_at, ends_at = _window(starts_at, ends_at)
    if installer_ids is None and team_id is None:
        installers = list(
            await session.scalars(
                select(VisitInstaller.installer_contact_id).where(VisitInstaller.visit_id == visit.id)
            )
        )
    else:
        installers = await installers_of(session, installer_ids or (), team_id)
        visit.team_id = team_id
    before = {"starts_at": visit.starts_at.isoformat(), "ends_at": visit.ends_at.isoformat()}
    await session.execute(delete(VisitInstaller).where(VisitInstaller.visit_id == visit.id))
    visit.starts_at, visit.ends_at = starts_at, ends_at
    await session.flush()
    await _booked(session, actor, "visit.reschedule", visit, installers, before=before)
    return visit


async def _release(session: AsyncSession, event: StatusChanged) -> None:
    """A cancelled visit frees its installers' time."""
    if event.entity_type == VISIT and event.to_status in RELEASED:
        await session.execute(
            update(VisitInstaller).where(VisitInstaller.visit_id == event.entity_id).values(holds=False)
        )


async def create_team(
    *, session: AsyncSession, name: str, installer_ids: Sequence[uuid.UUID], actor: Actor
) -> InstallerTeam:
    """A named team of installers (booking the team books them all)."""
    clean = text.line(name, field="name", max_length=100)
    if clean is None:
        raise ValidationFailed("Give the team a name.", field="name")
    members = await installers_of(session, installer_ids, None)
    team = await session.scalar(
        upsert(InstallerTeam)
        .values(name=clean)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(InstallerTeam)
    )
    if team is None:
        raise ValidationFailed(f"There is a team called {clean!r} already.", field="name")
    await session.execute(
        insert(InstallerTeamMember), [{"team_id": team.id, "installer_contact_id": m} for m in members]
    )
    await record(
        session=session,
        actor=actor,
        action="installer_team.create",
        entity_type="installer_team",
        entity_id=team.id,
        before=None,
        after={"name": clean, "members": members},
    )
    return team


# --- site survey ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyIn:
    meter_cabinet: MeterCabinet
    phases: int
    main_fuse_amps: int
    cable_length_m: Decimal
    mounting: Mounting
    cable_route: str | None = None
    notes: str | None = None


async def record_survey(*, session: AsyncSession, visit_id: uuid.UUID, survey_in: SurveyIn, actor: Actor) -> None:
    """What was found on site (recorded again: replaced)."""
    if await session.get(Visit, visit_id) is None:
        raise NotFound("Visit", visit_id, field="visit_id")
    if survey_in.phases not in (1, 3):
        raise ValidationFailed("A connection has 1 or 3 phases.", field="phases")
    if not 6 <= survey_in.main_fuse_amps <= 250:
        raise ValidationFailed("The main fuse is from 6 to 250 A.", field="main_fuse_amps")
    length = survey_in.cable_length_m
    if not length.is_finite() or not 0 <= length <= 500 or length != length.quantize(Decimal("0.1")):
        raise ValidationFailed("The cable length is 0 to 500 m, to a tenth of a metre.", field="cable_length_m")
    values = {
        "meter_cabinet": survey_in.meter_cabinet.value,
        "phases": survey_in.phases,
        "main_fuse_amps": survey_in.main_fuse_amps,
        "cable_length_m": length,
        "mounting": survey_in.mounting.value,
        "cable_route": text.text(survey_in.cable_route, field="cable_route", max_length=text.LONG_TEXT_LENGTH),
        "notes": text.text(survey_in.notes, field="notes", max_length=text.LONG_TEXT_LENGTH),
        "recorded_by_account_id": actor.account_id,
        "recorded_at": func.now(),
    }
    await session.execute(
        upsert(SiteSurvey)
        .values(visit_id=visit_id, **values)
        .on_conflict_do_update(index_elements=["visit_id"], set_=values)
    )
    await record(
        session=session,
        actor=actor,
        action="visit.survey",
        entity_type=VISIT,
        entity_id=visit_id,
        before=None,
        after={k: v for k, v in values.items() if k not in ("recorded_at", "recorded_by_account_id")},
    )


# --- reads ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitFilter:
    installer_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    statuses: Collection[str] = ()


def _filtered(stmt: Any, filter_in: VisitFilter, viewer: Viewer) -> Any:
    stmt = stmt.where(policy.visible(viewer, Visit))
    if filter_in.installer_id is not None:
        stmt = stmt.where(
            Visit.id.in_(
                select(VisitInstaller.visit_id).where(VisitInstaller.installer_contact_id == filter_in.installer_id)
            )
        )
    if filter_in.team_id is not None:
        stmt = stmt.where(Visit.team_id == filter_in.team_id)
    if filter_in.order_id is not None:
        stmt = stmt.where(Visit.order_id == filter_in.order_id)
    if filter_in.starts_from is not None:
        stmt = stmt.where(Visit.starts_at >= filter_in.starts_from)
    if filter_in.starts_before is not None:
        stmt = stmt.where(Visit.starts_at < filter_in.starts_before)
    if filter_in.statuses:
        stmt = stmt.where(Visit.status.in_(list(filter_in.statuses)))
    return stmt


count, search = reads.listing(Visit, _filtered, Visit.starts_at, Visit.id)  # by start time


async def installers_of_many(
    *, session: AsyncSession, visit_ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, list[Any]]:
    rows = await read(
        session,
        select(*columns(VisitInstaller))
        .where(any_of(VisitInstaller.visit_id, visit_ids), policy.visible(viewer, VisitInstaller))
        .order_by(VisitInstaller.visit_id, VisitInstaller.installer_contact_id),
    )
    return grouped(rows, "visit_id")


async def available_slots(
    *,
    session: AsyncSession,
    installer_ids: Sequence[uuid.UUID],
    period_start: datetime,
    period_end: datetime,
    duration: timedelta,
    now: datetime,
) -> list[tuple[datetime, datetime]]:
    """The start times (on the half hour, within working hours, not in the past) at which every
    one of the installers is free for `duration`."""
    checked_period(
        period_start,
        period_end,
        longest=MAX_SLOT_PERIOD,
        refusal="The period ends after it starts, within 31 days.",
        fields=("starts_from", "ends_before"),
    )
    workday = datetime.combine(datetime.min, WORKDAY[1]) - datetime.combine(datetime.min, WORKDAY[0])
    if not timedelta(minutes=15) <= duration <= workday:
        raise ValidationFailed(
            f"The duration is from 15 minutes to {workday} (a working day).", field="duration_minutes"
        )
    window = Range(period_start, period_end, bounds="[)")
    busy = [
        (row.lower, row.upper)
        for row in await session.execute(
            select(func.lower(VisitInstaller.during).label("lower"), func.upper(VisitInstaller.during).label("upper"))
            .where(
                any_of(VisitInstaller.installer_contact_id, installer_ids),
                VisitInstaller.holds,
                VisitInstaller.during.overlaps(window),
            )
            .order_by("lower")
        )
    ]
    slots: list[tuple[datetime, datetime]] = []
    day = period_start.astimezone(BUSINESS_TIMEZONE).date()
    while (day_start := datetime.combine(day, WORKDAY[0], BUSINESS_TIMEZONE)) < period_end:
        day_end = datetime.combine(day, WORKDAY[1], BUSINESS_TIMEZONE)
        start = day_start
        while day.weekday() < 5 and start + duration <= day_end:
            end = start + duration
            free = all(not (b_start < end and start < b_end) for b_start, b_end in busy)
            if free and start >= period_start and end <= period_end and start >= now:
                slots.append((start, end))
            start += SLOT_STEP
        day += timedelta(days=1)
    return slots


def wire() -> None:
    register(EntityAdapter(entity_type=EntityType.VISIT, model=Visit, name="Visit"))
    events.subscribe(StatusChanged, _release)
