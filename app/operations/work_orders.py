"""Work orders: the installation (or service) work of an order, numbered from the brand's work
order series, with a checklist, the installation record and the seals of the meter cabinet;
extra work found on site becomes order lines. Completing the last open installation work order
moves the order on to "installed" through the engine, as a system actor (docs/operations.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app import events, text
from app.access import policy, reads
from app.access.policy import Viewer
from app.audit.service import Actor, record
from app.db import constraint_name, read
from app.errors import NotFound, ValidationFailed
from app.numbering.service import DocumentType, allocate
from app.operations.errors import SealAlreadyUsed, WorkOrderIncomplete
from app.operations.models import (
    InstallationRecord,
    SealAction,
    SealUsage,
    WorkOrder,
    WorkOrderKind,
    WorkOrderTask,
)
from app.orders import service as orders
from app.orders.models import Order
from app.orders.service import LineIn
from app.status import engine
from app.status.engine import StatusChanged
from app.status.models import EntityType
from app.status.registry import EntityAdapter, register

WORK_ORDER: Final = EntityType.WORK_ORDER.value
CLOSED: Final = ("completed", "cancelled")
MAX_TASKS: Final = 50
MAX_SEALS: Final = 20
MAX_EXTRA_LINES: Final = 20
ORDER_DONE_STEP: Final = "installed"
"""Where an order goes when its last installation work order is completed."""
SYSTEM_NAME: Final = "work_orders"


async def create(
    *,
    session: AsyncSession,
    order_id: uuid.UUID,
    kind: WorkOrderKind,
    title: str,
    tasks: Sequence[str],
    actor: Actor,
) -> WorkOrder:
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound("Order", order_id, field="order_id")
    clean_title = text.line(title, field="title", max_length=200)
    if clean_title is None:
        raise ValidationFailed("Give the work order a title.", field="title")
    checklist = [text.line(t, field="tasks", max_length=300) for t in tasks]
    if any(t is None for t in checklist) or len(checklist) > MAX_TASKS:
        raise ValidationFailed(f"A checklist has up to {MAX_TASKS} tasks, each with a description.", field="tasks")
    workflow = await engine.workflow_for(session=session, entity_type=WORK_ORDER, business_entity_id=None)
    number = await allocate(
        session=session, business_entity_id=order.business_entity_id, document_type=DocumentType.WORK_ORDER
    )
    work_order = WorkOrder(
        business_entity_id=order.business_entity_id,
        order_id=order.id,
        number=number,
        kind=kind.value,
        title=clean_title,
        status=workflow.first_step.status_name,
        created_by_account_id=actor.account_id,
    )
    session.add(work_order)
    await session.flush()
    if checklist:
        await session.execute(
            insert(WorkOrderTask),
            [{"work_order_id": work_order.id, "position": n, "description": t} for n, t in enumerate(checklist, 1)],
        )
    await record(
        session=session,
        actor=actor,
        action="work_order.create",
        entity_type=WORK_ORDER,
        entity_id=work_order.id,
        before=None,
        after={"number": number, "order_id": order.id, "kind": kind.value, "tasks": len(checklist)},
    )
    await engine.initialize(session=session, entity_type=WORK_ORDER, entity=work_order, workflow=workflow, actor=actor)
    return work_order


async def _open(session: AsyncSession, work_order_id: uuid.UUID, field: str = "work_order_id") -> WorkOrder:
    """The work order, row-locked, while its work may still be recorded."""
    work_order = await session.get(WorkOrder, work_order_id, with_for_update=True, populate_existing=True)
    if work_order is None:
        raise NotFound("WorkOrder", work_order_id, field=field)
    if work_order.status in CLOSED:
        raise ValidationFailed(
            f"Work order {work_order.number} is {work_order.status}; reopen it to record work.", field=field
        )
    return work_order


async def set_task_done(*, session: AsyncSession, task_id: uuid.UUID, done: bool, actor: Actor) -> WorkOrderTask:
    task = await session.get(WorkOrderTask, task_id)
    if task is None:
        raise NotFound("WorkOrderTask", task_id, field="task_id")
    await _open(session, task.work_order_id, field="task_id")
    task.done_at = func.now() if done else None
    task.done_by_account_id = actor.account_id if done else None
    await session.flush()
    await record(
        session=session,
        actor=actor,
        action="work_order.task",
        entity_type=WORK_ORDER,
        entity_id=task.work_order_id,
        before=None,
        after={"task": task.id, "done": done},
    )
    return task


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallationIn:
    charger_make: str
    charger_model: str
    serial_number: str
    meter_reading_kwh: Decimal
    earth_resistance_ohm: Decimal
    insulation_resistance_mohm: Decimal
    rcd_trip_time_ms: Decimal
    tests_passed: bool


_READINGS: Final = {
    "meter_reading_kwh": (Decimal("99999999999.9"), 1),
    "earth_resistance_ohm": (Decimal("999999.99"), 2),
    "insulation_resistance_mohm": (Decimal("999999.99"), 2),
    "rcd_trip_time_ms": (Decimal("99999.9"), 1),
}


async def record_installation(
    *, session: AsyncSession, work_order_id: uuid.UUID, record_in: InstallationIn, actor: Actor
) -> None:
    """The charger installed, the meter reading and the tests (recorded again: replaced)."""
    work_order = await _open(session, work_order_id)
    if work_order.kind != WorkOrderKind.INSTALLATION:
        raise ValidationFailed("An installation record belongs to an installation work order.", field="work_order_id")
    values: dict[str, Any] = {"tests_passed": record_in.tests_passed}
    for name in ("charger_make", "charger_model", "serial_number"):
        value = text.line(getattr(record_in, name), field=name, max_length=100)
        if value is None:
            raise ValidationFailed(f"The {name.replace('_', ' ')} is needed.", field=name)
        values[name] = value
    for name, (limit, places) in _READINGS.items():
        reading: Decimal = getattr(record_in, name)
        if not reading.is_finite() or not 0 <= reading <= limit or reading != reading.quantize(Decimal(10) ** -places):
            raise ValidationFailed(f"{name} is from 0 to {limit}, with at most {places} decimals.", field=name)
        values[name] = reading
    values |= {"recorded_by_account_id": actor.account_id, "recorded_at": func.now()}
    await session.execute(
        upsert(InstallationRecord)
        .values(work_order_id=work_order.id, **values)
        .on_conflict_do_update(index_elements=["work_order_id"], set_=values)
    )
    await record(
        session=session,
        actor=actor,
        action="work_order.installation",
        entity_type=WORK_ORDER,
        entity_id=work_order.id,
        before=None,
        after={k: v for k, v in values.items() if k not in ("recorded_at", "recorded_by_account_id")},
    )


def _seal_numbers(numbers: Sequence[str], action: SealAction) -> list[str]:
    cleaned = []
    for raw in numbers:
        number = text.line(raw, field=action.value, max_length=30)
        if number is None:
            raise ValidationFailed("A seal number is needed.", field=action.value)
        cleaned.append(number.upper())
    if len(set(cleaned)) != len(cleaned):
        raise ValidationFailed("A seal number appears twice.", field=action.value)
    return cleaned


async def record_seals(
    *, session: AsyncSession, work_order_id: uuid.UUID, removed: Sequence[str], placed: Sequence[str], actor: Actor
) -> None:
    """Seals removed from and placed on the meter cabinet; a seal number is placed once and
    removed once, ever (the database's unique constraint decides, also between two workers)."""
    work_order = await _open(session, work_order_id)
    if len(removed) + len(placed) > MAX_SEALS or not removed and not placed:
        raise ValidationFailed(f"Record 1 to {MAX_SEALS} seals at a time.", field="placed")
    rows = [
        {
            "work_order_id": work_order.id,
            "seal_number": n,
            "action": action.value,
            "recorded_by_account_id": actor.account_id,
        }
        for action, numbers in ((SealAction.REMOVED, removed), (SealAction.PLACED, placed))
        for n in _seal_numbers(numbers, action)
    ]
    try:
        async with session.begin_nested():
            await session.execute(insert(SealUsage), rows)
    except DBAPIError as exc:
        if constraint_name(exc) != "uq_seal_usage_once":
            raise
        used = (
            await session.execute(
                select(SealUsage.seal_number, SealUsage.action)
                .where(
                    func.row(SealUsage.action, SealUsage.seal_number).in_(
                        [func.row(r["action"], r["seal_number"]) for r in rows]
                    )
                )
                .limit(1)
            )
        ).one()
        raise SealAlreadyUsed(used.seal_number, used.action) from None
    await record(
        session=session,
        actor=actor,
        action="work_order.seals",
        entity_type=WORK_ORDER,
        entity_id=work_order.id,
        before=None,
        after={"removed": [r["seal_number"] for r in rows if r["action"] == "removed"],
               "placed": [r["seal_number"] for r in rows if r["action"] == "placed"]},
    )  # fmt: skip


async def add_extra_work(
    *, session: AsyncSession, work_order_id: uuid.UUID, lines: Sequence[LineIn], actor: Actor
) -> list[uuid.UUID]:
    """Extra work found on site becomes lines of the order (the order's line lock applies)."""
    work_order = await _open(session, work_order_id)
    if not 1 <= len(lines) <= MAX_EXTRA_LINES:
        raise ValidationFailed(f"Add 1 to {MAX_EXTRA_LINES} lines at a time.", field="lines")
    added = []
    for line_in in lines:
        line = await orders.add_line(
            session=session, order_id=work_order.order_id, line_in=line_in, actor=actor, work_order_id=work_order.id
        )
        added.append(line.id)
    return added


async def _on_status_changed(session: AsyncSession, event: StatusChanged) -> None:
    """Completion needs the checklist done (and an installation's record with passed tests); the
    last installation work order of an order completed moves the order on."""
    if event.entity_type != WORK_ORDER or event.to_status != "completed":
        return
    work_order = await session.get(WorkOrder, event.entity_id)
    assert work_order is not None, "the engine changed its status"
    missing = [
        f"task {row.position} ({row.description}) is not done"
        for row in await read(
            session,
            select(WorkOrderTask.position, WorkOrderTask.description)
            .where(WorkOrderTask.work_order_id == work_order.id, WorkOrderTask.done_at.is_(None))
            .order_by(WorkOrderTask.position),
        )
    ]
    if work_order.kind == WorkOrderKind.INSTALLATION:
        passed = await session.scalar(
            select(InstallationRecord.tests_passed).where(InstallationRecord.work_order_id == work_order.id)
        )
        if passed is None:
            missing.append("the installation is not recorded")
        elif not passed:
            missing.append("the installation's tests did not pass")
    if missing:
        raise WorkOrderIncomplete(missing)
    if work_order.kind != WorkOrderKind.INSTALLATION:
        return
    still_open = await session.scalar(
        select(func.count()).where(
            WorkOrder.order_id == work_order.order_id,
            WorkOrder.kind == WorkOrderKind.INSTALLATION.value,
            WorkOrder.status.not_in(CLOSED),
            WorkOrder.id != work_order.id,
        )
    )
    if not still_open:
        await engine.advance(
            session=session,
            entity_type=EntityType.ORDER.value,
            entity_id=work_order.order_id,
            to_status=ORDER_DONE_STEP,
            actor=event.actor.cascaded(SYSTEM_NAME),
            reason=f"Work order {work_order.number} completed.",
        )


# --- reads ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkOrderFilter:
    order_id: uuid.UUID | None = None
    statuses: Collection[str] = ()


def _filtered(stmt: Any, filter_in: WorkOrderFilter, viewer: Viewer) -> Any:
    stmt = stmt.where(policy.visible(viewer, WorkOrder))
    if filter_in.order_id is not None:
        stmt = stmt.where(WorkOrder.order_id == filter_in.order_id)
    if filter_in.statuses:
        stmt = stmt.where(WorkOrder.status.in_(list(filter_in.statuses)))
    return stmt


count, search = reads.listing(WorkOrder, _filtered, WorkOrder.created_at.desc(), WorkOrder.id.desc())


def wire() -> None:
    register(EntityAdapter(entity_type=EntityType.WORK_ORDER, model=WorkOrder, name="WorkOrder"))
    events.subscribe(StatusChanged, _on_status_changed)
