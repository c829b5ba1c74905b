"""Putting an order on hold and resuming it to the status it had, through the status engine."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import events, text
from app.audit.service import Actor, record, snapshot
from app.db import read_by
from app.errors import NotFound, ValidationFailed
from app.orders.errors import OrderAlreadyOnHold, OrderNotOnHold
from app.orders.models import HoldReason, Order, OrderHold
from app.status import engine
from app.status.engine import Purpose
from app.status.models import EntityType


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldIn:
    reason_category: HoldReason
    details: str | None = None
    estimated_resume_date: date | None = None
    escalation_date: date | None = None
    notify_customer: bool = False
    notify_partner: bool = False


@dataclass(frozen=True, slots=True)
class HoldPlaced:
    """Published once an order is on hold, inside the same transaction (the outbox records it)."""

    hold: OrderHold
    actor: Actor


@dataclass(frozen=True, slots=True)
class HoldResumed:
    """Published once an order left its hold, inside the same transaction."""

    hold: OrderHold
    actor: Actor


async def active_hold(session: AsyncSession, order_id: uuid.UUID) -> OrderHold | None:
    return await session.scalar(
        select(OrderHold).where(OrderHold.order_id == order_id, OrderHold.resumed_at.is_(None)).with_for_update()
    )


async def place_on_hold(
    *, session: AsyncSession, order_id: uuid.UUID, hold_in: HoldIn, actor: Actor, today: date | None = None
) -> OrderHold:
    today = today or datetime.now(UTC).date()
    for name in ("estimated_resume_date", "escalation_date"):
        value = getattr(hold_in, name)
        if value is not None and value < today:
            raise ValidationFailed("The date lies in the past.", field=name)
    details = text.text(hold_in.details, field="details", max_length=text.LONG_TEXT_LENGTH)

    order = await session.get(Order, order_id, with_for_update=True, populate_existing=True)
    if order is None:
        raise NotFound("Order", order_id, field="order_id")
    if await active_hold(session, order_id) is not None:
        raise OrderAlreadyOnHold("The order is already on hold.", field="order_id")
    status_before = order.status
    await engine.change_status(
        session=session,
        entity_type=EntityType.ORDER.value,
        entity_id=order_id,
        to_status=None,
        actor=actor,
        reason=f"{hold_in.reason_category.value}: {details}" if details else hold_in.reason_category.value,
        business_context={"hold": hold_in.reason_category.value},
        purpose=Purpose.HOLD,
    )
    hold = OrderHold(
        order_id=order_id,
        reason_category=hold_in.reason_category,
        details=details,
        estimated_resume_date=hold_in.estimated_resume_date,
        escalation_date=hold_in.escalation_date,
        notify_customer=hold_in.notify_customer,
        notify_partner=hold_in.notify_partner,
        status_before=status_before,
        placed_by_account_id=actor.account_id,
    )
    session.add(hold)
    await session.flush()
    await record(
        session=session,
        actor=actor,
        action="order.hold",
        entity_type="order",
        entity_id=order_id,
        before={"status": status_before},
        after=snapshot(hold),
    )
    await events.publish(session, HoldPlaced(hold=hold, actor=actor))
    return hold


async def resume(*, session: AsyncSession, order_id: uuid.UUID, actor: Actor, reason: str | None = None) -> OrderHold:
    order = await session.get(Order, order_id, with_for_update=True, populate_existing=True)
    if order is None:
        raise NotFound("Order", order_id, field="order_id")
    hold = await active_hold(session, order_id)
    if hold is None:
        raise OrderNotOnHold("The order is not on hold.", field="order_id")
    before = snapshot(hold)
    await engine.change_status(
        session=session,
        entity_type=EntityType.ORDER.value,
        entity_id=order_id,
        to_status=hold.status_before,
        actor=actor,
        reason=reason or "resumed",
        business_context={"hold_id": str(hold.id)},
        purpose=Purpose.RESUME,
    )
    hold.resumed_at = datetime.now(UTC)
    hold.resumed_by_account_id = actor.account_id
    await session.flush()
    await record(
        session=session,
        actor=actor,
        action="order.resume",
        entity_type="order",
        entity_id=order_id,
        before=before,
        after=snapshot(hold),
    )
    await events.publish(session, HoldResumed(hold=hold, actor=actor))
    return hold


async def holds_of_many(*, session: AsyncSession, order_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[OrderHold]]:
    return await read_by(session, OrderHold.order_id, order_ids, _NEWEST_FIRST)


_NEWEST_FIRST = OrderHold.placed_at.desc()
