"""The commission cascade and the reads of commissions.

When an order reaches a step flagged `creates_commissions`, every level of its channel chain
gets one commission: rate = the partner's own `commission_rate`, else its nearest ancestor's
(an explicit 0 stops the inheritance and means no commission), amount = rate × the order's
commissionable net, half-up to the cent. While a commission is in its workflow's first step
(pending) it follows the order's lines; once it has moved on (approved) it is frozen. When the
order leaves for an exit step (cancelled), its commissions that are not yet final (paid) are
cancelled through the engine.

Everything here runs inside the transaction of the change that caused it (app/events.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import events, text
from app.access import policy
from app.access.policy import Viewer
from app.access.reads import visible_by, visible_by_id
from app.audit.service import Actor, record
from app.commissions.models import CommissionTotal, PartnerCommission
from app.contacts.service import effective_commission_rates
from app.db import any_of, columns, grouped, read
from app.errors import ValidationFailed
from app.jobs import schedules
from app.jobs.queue import JobContext
from app.numbering.service import BUSINESS_TIMEZONE
from app.orders.models import Order
from app.orders.service import OrderLinesChanged, channels_of_many, lines_of_many, totals
from app.status import engine
from app.status.engine import StatusChanged
from app.status.models import EntityType, StepType
from app.status.registry import EntityAdapter, register

COMMISSION = EntityType.PARTNER_COMMISSION.value
CASCADE_SYSTEM = "commission-cascade"


@dataclass(frozen=True, slots=True, kw_only=True)
class CommissionFilter:
    """Statuses (any of) and a period of days, both ends included, in Dutch time."""

    statuses: tuple[str, ...] = ()
    earned_from: date | None = None
    earned_to: date | None = None

    def __post_init__(self) -> None:
        statuses = text.lines(self.statuses, field="status", max_length=text.STATUS_NAME_LENGTH)
        object.__setattr__(self, "statuses", statuses)
        if self.earned_from and self.earned_to and self.earned_from > self.earned_to:
            raise ValidationFailed("The period ends before it starts.", field="period")


@dataclass(frozen=True, slots=True)
class BeneficiaryTotal:
    beneficiary_id: uuid.UUID
    count: int
    total: Decimal


def commission_amount(rate: Decimal, base: Decimal) -> Decimal:
    return totals.money(rate * base)


# --- the cascade -------------------------------------------------------------------------------


async def _commissionable_net(session: AsyncSession, order_id: uuid.UUID) -> Decimal:
    lines = (await lines_of_many(session=session, order_ids=[order_id])).get(order_id, [])
    return totals.compute(lines).commissionable_net


async def create_for_order(*, session: AsyncSession, order_id: uuid.UUID, actor: Actor) -> list[PartnerCommission]:
    """One commission per chain level that has a rate; nothing if the order already has them
    (it may reach the creating step again after moving back)."""
    if await session.scalar(select(PartnerCommission.id).where(PartnerCommission.order_id == order_id).limit(1)):
        return []
    order = await session.get(Order, order_id)
    assert order is not None, "the engine has locked the order"
    chain = (await channels_of_many(session=session, order_ids=[order_id])).get(order_id, [])
    if not chain:
        return []
    rates = await effective_commission_rates(session=session, ids=[c.contact_id for c in chain])
    base = await _commissionable_net(session, order_id)
    workflow = await engine.workflow_for(
        session=session, entity_type=COMMISSION, business_entity_id=order.business_entity_id
    )
    created = [
        PartnerCommission(
            order_id=order_id,
            business_entity_id=order.business_entity_id,
            beneficiary_contact_id=level.contact_id,
            level=level.position,
            rate=rates[level.contact_id],
            base_amount=base,
            amount=commission_amount(rates[level.contact_id], base),
            status=workflow.first_step.status_name,
        )
        for level in chain
        if rates.get(level.contact_id)
    ]
    session.add_all(created)
    await session.flush()
    cascade = actor.cascaded(CASCADE_SYSTEM)
    for commission in created:
        await engine.initialize(
            session=session,
            entity_type=COMMISSION,
            entity=commission,
            workflow=workflow,
            actor=cascade,
            reason=f"Order {order.number} reached {order.status}",
        )
    return created


async def _locked_with_steps(
    session: AsyncSession, order_id: uuid.UUID
) -> list[tuple[PartnerCommission, engine.Workflow, str]]:
    """The order's commissions, row-locked (an approval waits for us, or we for it), each with
    its workflow and current status as committed."""
    rows = (
        await session.scalars(
            select(PartnerCommission)
            .where(PartnerCommission.order_id == order_id)
            .order_by(PartnerCommission.level)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).all()
    if not rows:
        return []
    current = await engine.current_of_many(session=session, keys=[(COMMISSION, r.id) for r in rows])
    workflows = await engine.workflows_of_many(
        session=session, ids=list({state.workflow_id for state, _ in current.values()})
    )
    result = []
    for row in rows:
        state, _ = current[(COMMISSION, row.id)]
        result.append((row, workflows[state.workflow_id], state.status))
    return result


async def recalculate_pending(*, session: AsyncSession, order_id: uuid.UUID, actor: Actor) -> list[PartnerCommission]:
    """Follow the order's lines while pending; approved and later commissions are frozen."""
    pending = [
        row
        for row, workflow, status in await _locked_with_steps(session, order_id)
        if status == workflow.first_step.status_name
    ]
    if not pending:
        return []
    base = await _commissionable_net(session, order_id)
    changed = []
    for row in pending:
        amount = commission_amount(row.rate, base)
        if (row.base_amount, row.amount) == (base, amount):
            continue
        before = {"base_amount": str(row.base_amount), "amount": str(row.amount)}
        row.base_amount, row.amount = base, amount
        changed.append(row)
        await record(
            session=session,
            actor=actor.cascaded(CASCADE_SYSTEM),
            action="partner_commission.recalculate",
            entity_type=COMMISSION,
            entity_id=row.id,
            before=before,
            after={"base_amount": str(base), "amount": str(amount)},
        )
    await session.flush()
    return changed


async def cancel_open(
    *, session: AsyncSession, order_id: uuid.UUID, actor: Actor, reason: str
) -> list[PartnerCommission]:
    """Cancel the order's commissions that are not final yet (not paid)."""
    cancelled = []
    for row, workflow, status in await _locked_with_steps(session, order_id):
        exit_step = workflow.exit_step
        if workflow.steps[status].is_final or exit_step is None:
            continue
        await engine.change_status(
            session=session,
            entity_type=COMMISSION,
            entity_id=row.id,
            to_status=exit_step.status_name,
            actor=actor.cascaded(CASCADE_SYSTEM),
            reason=reason,
        )
        cancelled.append(row)
    return cancelled


async def _on_status_changed(session: AsyncSession, event: StatusChanged) -> None:
    if event.entity_type != EntityType.ORDER.value:
        return
    if event.to_step.creates_commissions:
        await create_for_order(session=session, order_id=event.entity_id, actor=event.actor)
    elif event.to_step.step_type is StepType.EXIT:
        await cancel_open(
            session=session,
            order_id=event.entity_id,
            actor=event.actor,
            reason=f"Order moved to {event.to_status}",
        )


async def _on_lines_changed(session: AsyncSession, event: OrderLinesChanged) -> None:
    await recalculate_pending(session=session, order_id=event.order_id, actor=event.actor)


def wire() -> None:
    """Commissions have a status, and follow their order: created when it reaches a
    commission-creating step, cancelled on an exit, recalculated while pending when its lines
    change (app/wiring.py)."""
    register(
        EntityAdapter(entity_type=EntityType.PARTNER_COMMISSION, model=PartnerCommission, name="PartnerCommission")
    )
    events.subscribe(StatusChanged, _on_status_changed)
    events.subscribe(OrderLinesChanged, _on_lines_changed)
    schedules.register(
        schedules.Schedule(
            name=COMPACT,
            cron="*/5 * * * *",
            description="Each beneficiary's commission totals summed back into one part per status.",
            handler=_compact,
        )
    )


COMPACT = "commissions.compact_totals"


async def _compact(context: JobContext, now: datetime) -> str:
    """Sum the parts of the commission totals written since the last run (migration 0022)."""
    async with context.sessions() as session, session.begin():
        folded = await session.scalar(select(func.commission_total_compact()))
    return f"{folded} parts folded"


# --- reads -------------------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BUSINESS_TIMEZONE)


def _conditions(filter_in: CommissionFilter, viewer: Viewer) -> list[Any]:
    conditions = [policy.visible(viewer, PartnerCommission)]
    if filter_in.statuses:
        conditions.append(any_of(PartnerCommission.status, filter_in.statuses))
    if filter_in.earned_from is not None:
        conditions.append(PartnerCommission.created_at >= _day_start(filter_in.earned_from))
    if filter_in.earned_to is not None:
        conditions.append(PartnerCommission.created_at < _day_start(filter_in.earned_to + timedelta(days=1)))
    return conditions


async def get_many(
    *, session: AsyncSession, ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, PartnerCommission]:
    """The commissions with these ids that `viewer` may see."""
    return await visible_by_id(session, PartnerCommission, ids, viewer)


async def of_orders_many(
    *, session: AsyncSession, order_ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, list[PartnerCommission]]:
    """The visible commissions of each order, by level."""
    commission = PartnerCommission
    return await visible_by(session, commission, commission.order_id, order_ids, viewer, commission.level)


async def of_beneficiaries_many(
    *, session: AsyncSession, contact_ids: Collection[uuid.UUID], filter_in: CommissionFilter, viewer: Viewer
) -> dict[uuid.UUID, list[PartnerCommission]]:
    """The visible commissions earned by each contact, newest first."""
    rows = await read(
        session,
        select(*columns(PartnerCommission))
        .where(any_of(PartnerCommission.beneficiary_contact_id, contact_ids), *_conditions(filter_in, viewer))
        .order_by(PartnerCommission.beneficiary_contact_id, PartnerCommission.created_at.desc(), PartnerCommission.id),
    )
    return grouped(rows, "beneficiary_contact_id")


async def overview(*, session: AsyncSession, filter_in: CommissionFilter, viewer: Viewer) -> Sequence[BeneficiaryTotal]:
    """Count and total per beneficiary, the largest total first: one grouped statement, over the
    totals kept per beneficiary and status when no period is asked for (`CommissionTotal`),
    else over the commissions of the period."""
    count: ColumnElement[int]
    if filter_in.earned_from is None and filter_in.earned_to is None:
        kept = CommissionTotal  # its parts summed: a beneficiary with none left is not listed
        count, total = func.sum(kept.commissions).cast(BigInteger), func.sum(kept.amount)
        conditions = [policy.visible(viewer, kept)]
        if filter_in.statuses:
            conditions.append(any_of(kept.status, filter_in.statuses))
        beneficiary, having = kept.beneficiary_contact_id, [count > 0]
    else:
        count, total = func.count(), func.sum(PartnerCommission.amount)
        conditions = _conditions(filter_in, viewer)
        beneficiary, having = PartnerCommission.beneficiary_contact_id, []
    rows = await session.execute(
        select(beneficiary, count, total)
        .where(*conditions)
        .group_by(beneficiary)
        .having(*having)
        .order_by(total.desc(), beneficiary)
    )
    return [BeneficiaryTotal(beneficiary_id=b, count=n, total=t) for b, n, t in rows]
