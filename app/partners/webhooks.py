"""Status sync out: the events a partner subscribes to, delivered as signed webhooks
(docs/integration.md, "Webhooks").

Fan-out (an outbox consumer): for each active integration with an endpoint that subscribes to
the event's type and whose organisation's scope sees the order (the visibility policy), one
`webhook_delivery` with its body fixed, and one job. Delivery (that job): claim an attempt in
one transaction, POST without holding a transaction, record the outcome in another; a failure
is retried with backoff and jitter through PgQueuer (`RetryRequested`), the last failure
dead-letters the delivery. A job that runs twice, or runs again after its worker was killed,
finds the delivery's state and acts on that: an attempt slot is taken once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx
import orjson
from pgqueuer import RetryRequested
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import policy
from app.audit.service import Actor, record
from app.config import get_settings
from app.errors import NotFound
from app.jobs import queue
from app.jobs.attempts import backoff, wait_for_slot
from app.jobs.queue import JobContext
from app.orders.models import Order
from app.outbox.models import OutboxEvent
from app.partners.models import DeliveryStatus, PartnerIntegration, PartnerOrder, WebhookAttempt, WebhookDelivery

DELIVER: Final = "webhook.deliver"
SIGNATURE_HEADER: Final = "ChargeCars-Signature"
EVENT_ID_HEADER: Final = "ChargeCars-Event-Id"
EVENT_TYPE_HEADER: Final = "ChargeCars-Event-Type"
USER_AGENT: Final = "ChargeCars-Webhooks/1"
LEASE_MARGIN: Final = timedelta(seconds=5)
"""An attempt's lease outlasts its HTTP timeout by this much; a lease that ran out means the
worker that took it is gone."""
EXCERPT_LENGTH: Final = 500


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, *, tolerance_seconds: int = 300, now: float | None = None) -> bool:
    """What a receiver does (docs/integration.md has it in a few lines): the signature matches
    and its timestamp is recent."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")


def encode(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


# --- fan-out ------------------------------------------------------------------------------------


async def fan_out(session: AsyncSession, event: OutboxEvent) -> None:
    """An outbox consumer: a delivery (and its job) per subscribed partner that sees the order."""
    if event.order_id is None:
        return
    integrations = list(
        await session.scalars(
            select(PartnerIntegration).where(
                PartnerIntegration.active,
                PartnerIntegration.webhook_url.is_not(None),
                PartnerIntegration.events.contains([event.event_type]),
                policy.root_reaches_order(PartnerIntegration.organization_id, event.order_id),
            )
        )
    )
    if not integrations:
        return
    order = (await session.execute(select(Order.number, Order.status).where(Order.id == event.order_id))).one()
    references = {
        row.integration_id: row
        for row in await session.execute(
            select(PartnerOrder.integration_id, PartnerOrder.partner_reference).where(
                PartnerOrder.order_id == event.order_id
            )
        )
    }
    for integration in integrations:
        reference = references.get(integration.id)
        body = {
            "id": str(event.event_id),
            "type": event.event_type,
            "sequence": event.id,
            "occurredAt": event.occurred_at.isoformat(),
            "order": {
                "number": order.number,
                "status": order.status,
                "partnerStatus": integration.status_mapping.get(order.status, order.status),
                "partnerOrderReference": reference.partner_reference if reference else None,
            },
            "data": event.payload,
        }
        delivery_id = await session.scalar(
            insert(WebhookDelivery)
            .values(
                integration_id=integration.id,
                organization_id=integration.organization_id,
                outbox_event_id=event.id,
                event_id=event.event_id,
                event_type=event.event_type,
                order_id=event.order_id,
                body=body,
                status=DeliveryStatus.PENDING,
                attempt_budget=attempts_allowed(),
            )
            .on_conflict_do_nothing(index_elements=["integration_id", "outbox_event_id"])
            .returning(WebhookDelivery.id)
        )
        if delivery_id is not None:
            await queue.enqueue(session, DELIVER, {"delivery": str(delivery_id)}, dedupe_key=f"webhook:{delivery_id}")


def attempts_allowed() -> int:
    """Attempts of a delivery before it is dead-lettered: one more than there are retry delays."""
    return len(get_settings().webhook_retry_delays) + 1


# --- delivery -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Claim:
    attempt: int
    url: str
    secret: str
    body: dict[str, Any]
    event_id: uuid.UUID
    event_type: str


async def _claim(context: JobContext, delivery_id: uuid.UUID) -> _Claim | None:
    """Take the next attempt slot, or say why not (nothing to do; not yet; someone else's)."""
    async with context.sessions() as session, session.begin():
        delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if delivery is None or delivery.status in (DeliveryStatus.DELIVERED, DeliveryStatus.DEAD):
            return None
        now = datetime.now(UTC)
        wait_for_slot(
            now=now,
            under_way=delivery.status is DeliveryStatus.DELIVERING,
            lease_until=delivery.lease_until,
            waiting=delivery.status is DeliveryStatus.PENDING,
            next_attempt_at=delivery.next_attempt_at,
        )
        if delivery.status is DeliveryStatus.DELIVERING:
            # the lease ran out: the worker that took the last attempt is gone
            await session.execute(
                update(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == delivery.id, WebhookAttempt.finished_at.is_(None))
                .values(finished_at=now, error="the worker was lost during this attempt")
            )
        integration = await session.get(PartnerIntegration, delivery.integration_id)
        assert integration is not None
        if integration.webhook_url is None:
            delivery.status = DeliveryStatus.DEAD
            delivery.last_error = "the partner has no webhook endpoint any more"
            return None
        delivery.attempts += 1
        delivery.status = DeliveryStatus.DELIVERING
        delivery.lease_until = now + timedelta(seconds=context.settings.webhook_timeout_seconds) + LEASE_MARGIN
        session.add(
            WebhookAttempt(delivery_id=delivery.id, attempt=delivery.attempts, started_at=now, worker=context.worker)
        )
        return _Claim(
            attempt=delivery.attempts,
            url=integration.webhook_url,
            secret=integration.signing_secret,
            body=delivery.body,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
        )


@dataclass(frozen=True, slots=True)
class _Outcome:
    status_code: int | None
    error: str | None
    excerpt: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.error is None


async def _post(http: httpx.AsyncClient, claim: _Claim) -> _Outcome:
    body = encode(claim.body)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(claim.secret, int(time.time()), body),
        EVENT_ID_HEADER: str(claim.event_id),
        EVENT_TYPE_HEADER: claim.event_type,
    }
    started = time.perf_counter()
    try:
        answer = await http.post(claim.url, content=body, headers=headers)
    except httpx.TimeoutException:
        return _Outcome(None, "timed out", None, _ms(started))
    except httpx.HTTPError as exc:
        return _Outcome(None, f"{type(exc).__name__}: {exc}"[:EXCERPT_LENGTH], None, _ms(started))
    excerpt = answer.text[:EXCERPT_LENGTH] or None
    error = None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
    return _Outcome(answer.status_code, error, excerpt, _ms(started))


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


async def _settle(context: JobContext, delivery_id: uuid.UUID, claim: _Claim, outcome: _Outcome) -> timedelta | None:
    """Record the attempt and the delivery's new state; the wait before a retry, if one follows."""
    now = datetime.now(UTC)
    retry: timedelta | None = None
    async with context.sessions() as session, session.begin():
        delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
        assert delivery is not None
        await session.execute(
            update(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id, WebhookAttempt.attempt == claim.attempt)
            .values(
                finished_at=now,
                duration_ms=outcome.duration_ms,
                status_code=outcome.status_code,
                error=outcome.error,
                response_excerpt=outcome.excerpt,
            )
        )
        if delivery.attempts != claim.attempt or delivery.status is not DeliveryStatus.DELIVERING:
            return None  # a later attempt took over after this one's lease ran out
        delivery.lease_until = None
        sync: dict[str, Any] = {"last_synced_at": now}
        if outcome.delivered:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.last_error = None
            sync |= {"last_known_status": claim.body["order"]["partnerStatus"], "last_sync_error": None}
        elif delivery.attempts < delivery.attempt_budget:
            retry = backoff(context.settings.webhook_retry_delays, delivery.attempts)
            delivery.status = DeliveryStatus.PENDING
            delivery.next_attempt_at = now + retry
            delivery.last_error = outcome.error
            sync |= {"last_sync_error": f"attempt {claim.attempt}: {outcome.error}"}
        else:
            delivery.status = DeliveryStatus.DEAD
            delivery.last_error = outcome.error
            sync |= {"last_sync_error": f"dead-lettered after attempt {claim.attempt}: {outcome.error}"}
        if delivery.order_id is not None:
            await session.execute(
                update(PartnerOrder)
                .where(
                    PartnerOrder.order_id == delivery.order_id, PartnerOrder.integration_id == delivery.integration_id
                )
                .values(**sync)
            )
    return retry


async def deliver(context: JobContext, payload: dict[str, Any]) -> None:
    """The job of one delivery: one attempt, then done or re-queued for the next slot."""
    delivery_id = uuid.UUID(payload["delivery"])
    claim = await _claim(context, delivery_id)
    if claim is None:
        return
    outcome = await _post(context.http, claim)
    retry = await _settle(context, delivery_id, claim, outcome)
    if retry is not None:
        raise RetryRequested(retry, outcome.error)


# --- staff --------------------------------------------------------------------------------------


async def redeliver(*, session: AsyncSession, delivery_id: uuid.UUID, actor: Actor) -> WebhookDelivery:
    """Send a delivery again, now, with a fresh budget of attempts (same event id and body)."""
    delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFound("WebhookDelivery", delivery_id, field="delivery_id")
    before = {"status": delivery.status.value, "attempts": delivery.attempts}
    if delivery.status is not DeliveryStatus.DELIVERING:
        delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = func.now()
    delivery.attempt_budget = delivery.attempts + attempts_allowed()
    await session.flush()
    # No dedupe key: the job of the last attempt may still hold it (PgQueuer records a finished
    # job a moment later), which would drop this one. A second job of one delivery is harmless:
    # attempts are claimed under the delivery's row lock and lease.
    await queue.enqueue(session, DELIVER, {"delivery": str(delivery.id)})
    await record(
        session=session,
        actor=actor,
        action="webhook.redeliver",
        entity_type="webhook_delivery",
        entity_id=delivery.id,
        before=before,
        after={"status": delivery.status.value, "attempt_budget": delivery.attempt_budget},
    )
    return delivery
