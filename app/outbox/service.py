"""The transactional outbox (docs/integration.md, "The outbox").

The in-process events the status engine and the services publish inside their transaction
become `outbox_event` rows in that same transaction, each with a job that dispatches it: a
rolled-back change leaves neither, a committed one has both. The worker's dispatch hands the
event to every consumer (partner webhooks; later notifications) and marks it dispatched, all
in one transaction, so a dispatch that dies half-way is simply run again.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import events
from app.audit.service import Actor
from app.jobs import queue
from app.jobs.queue import JobContext
from app.orders.service import HoldPlaced, HoldResumed, OrderLinesChanged
from app.outbox.models import OutboxEvent
from app.status.engine import StatusChanged
from app.status.models import EntityType, Movement

DISPATCH = "outbox.dispatch"

ORDER_CREATED = "order.created"
ORDER_STATUS_CHANGED = "order.status_changed"
ORDER_HOLD_PLACED = "order.hold_placed"
ORDER_HOLD_RESUMED = "order.hold_resumed"
ORDER_LINES_CHANGED = "order.lines_changed"
ORDER_EVENTS = (ORDER_CREATED, ORDER_STATUS_CHANGED, ORDER_HOLD_PLACED, ORDER_HOLD_RESUMED, ORDER_LINES_CHANGED)
"""The events of an order, which partners may subscribe to. Other entities' status changes are
recorded as `<entity type>.created` and `<entity type>.status_changed`."""

Consumer = Callable[[AsyncSession, OutboxEvent], Awaitable[None]]
_consumers: list[Consumer] = []


def consume(consumer: Consumer) -> None:
    """Hand every dispatched event to `consumer`, inside the dispatch's transaction (once,
    however often registered). A consumer is idempotent: a dispatch may run twice."""
    if consumer not in _consumers:
        _consumers.append(consumer)


def consumers() -> list[Consumer]:
    return list(_consumers)


def _actor(actor: Actor) -> dict[str, Any]:
    return {"accountId": str(actor.account_id) if actor.account_id else None, "system": actor.system}


async def record(
    session: AsyncSession,
    *,
    event_type: str,
    entity_type: str,
    entity_id: uuid.UUID,
    order_id: uuid.UUID | None,
    payload: dict[str, Any],
) -> int:
    """Write one event and the job that dispatches it, in the session's transaction."""
    event_id = await session.scalar(
        insert(OutboxEvent)
        .values(event_type=event_type, entity_type=entity_type, entity_id=entity_id, order_id=order_id, payload=payload)
        .returning(OutboxEvent.id)
    )
    assert event_id is not None
    await queue.enqueue(session, DISPATCH, {"event": event_id})
    return event_id


async def _on_status_changed(session: AsyncSession, event: StatusChanged) -> None:
    is_order = event.entity_type == EntityType.ORDER.value
    created = event.movement is Movement.INITIAL
    await record(
        session,
        event_type=f"{event.entity_type}.{'created' if created else 'status_changed'}",
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        order_id=event.entity_id if is_order else None,
        payload={
            "fromStatus": event.from_status,
            "toStatus": event.to_status,
            "movement": event.movement.value,
            "transitionId": str(event.transition_id),
            "actor": _actor(event.actor),
            **({"passedThrough": True} if event.passed_through else {}),
        },
    )


async def _on_hold(session: AsyncSession, event: HoldPlaced | HoldResumed) -> None:
    hold = event.hold
    await record(
        session,
        event_type=ORDER_HOLD_PLACED if isinstance(event, HoldPlaced) else ORDER_HOLD_RESUMED,
        entity_type=EntityType.ORDER.value,
        entity_id=hold.order_id,
        order_id=hold.order_id,
        payload={
            "holdId": str(hold.id),
            "reasonCategory": hold.reason_category.value,
            "estimatedResumeDate": hold.estimated_resume_date.isoformat() if hold.estimated_resume_date else None,
            "escalationDate": hold.escalation_date.isoformat() if hold.escalation_date else None,
            "notifyCustomer": hold.notify_customer,
            "notifyPartner": hold.notify_partner,
            "actor": _actor(event.actor),
        },
    )


async def _on_lines_changed(session: AsyncSession, event: OrderLinesChanged) -> None:
    await record(
        session,
        event_type=ORDER_LINES_CHANGED,
        entity_type=EntityType.ORDER.value,
        entity_id=event.order_id,
        order_id=event.order_id,
        payload={"actor": _actor(event.actor)},
    )


async def dispatch(context: JobContext, payload: dict[str, Any]) -> None:
    """The job of one event: every consumer, then the mark, in one transaction."""
    async with context.sessions() as session, session.begin():
        event = await session.scalar(select(OutboxEvent).where(OutboxEvent.id == payload["event"]).with_for_update())
        if event is None or event.dispatched_at is not None:
            return
        for consumer in _consumers:
            await consumer(session, event)
        event.dispatched_at = datetime.now(UTC)


# --- wiring (app/wiring.py) --------------------------------------------------------------------


def subscriptions() -> list[tuple[type, Callable[[AsyncSession, Any], Awaitable[None]]]]:
    """The events the outbox records and its handler of each (the benchmark measures the write
    path with and without them)."""
    return [
        (StatusChanged, _on_status_changed),
        (HoldPlaced, _on_hold),
        (HoldResumed, _on_hold),
        (OrderLinesChanged, _on_lines_changed),
    ]


def wire() -> None:
    """Every published event becomes an outbox row; the dispatch is a job."""
    for event_type, handler in subscriptions():
        events.subscribe(event_type, handler)
    queue.register(DISPATCH, dispatch)
