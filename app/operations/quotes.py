"""Quotes: made for an account (and end customer, channel chain, like an order) with lines from
the brand's catalogue, numbered from the brand's quote series, moved through the engine (draft →
sent → accepted / rejected / expired / superseded). A sent quote is not edited: a revision
supersedes it. Accepting one creates its order in the same transaction (docs/operations.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import events, text
from app.access import policy, reads
from app.access.policy import Viewer
from app.audit.service import SYSTEM, Actor, record
from app.business_entities.models import BusinessEntity
from app.errors import NotFound, ValidationFailed
from app.jobs import schedules
from app.jobs.queue import JobContext
from app.numbering.service import BUSINESS_TIMEZONE, DocumentType, allocate, today
from app.operations.errors import QuoteNotAcceptable, QuoteNotEditable
from app.operations.models import Quote, QuoteChannel, QuoteLine
from app.orders import service as orders
from app.orders.service import LineIn, OrderCreate
from app.status import engine
from app.status.engine import StatusChanged
from app.status.models import EntityType
from app.status.registry import EntityAdapter, register

QUOTE: Final = EntityType.QUOTE.value
MAX_LINES: Final = 100
MAX_VALIDITY: Final = timedelta(days=365)
EXPIRY: Final = "quotes.expire"
ORDER_STEP_ON_ACCEPTANCE: Final = "accepted"
"""Where an order made from an accepted quote goes at once, if its workflow has that step."""


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteIn:
    business_entity_id: uuid.UUID
    account_contact_id: uuid.UUID
    end_customer_contact_id: uuid.UUID | None = None
    channel_contact_ids: Sequence[uuid.UUID] = ()
    valid_until: date
    notes: str | None = None
    lines: Sequence[LineIn] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True, kw_only=True)
class DraftChange:
    """What changes on a draft; None keeps (the lines, when given, replace all of them)."""

    valid_until: date | None = None
    notes: str | None = None
    lines: Sequence[LineIn] | None = None


def _valid_until(value: date) -> date:
    if not today() <= value <= today() + MAX_VALIDITY:
        raise ValidationFailed("A quote is valid from today up to a year ahead.", field="valid_until")
    return value


async def _resolved_lines(
    session: AsyncSession, business_entity_id: uuid.UUID, lines: Sequence[LineIn]
) -> list[dict[str, Any]]:
    if not lines:
        raise ValidationFailed("A quote needs at least one line.", field="lines")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"A quote has at most {MAX_LINES} lines.", field="lines")
    return [
        await orders.resolve_line(session=session, business_entity_id=business_entity_id, line_in=line)
        for line in lines
    ]


async def _insert_lines(session: AsyncSession, quote_id: uuid.UUID, lines: list[dict[str, Any]]) -> None:
    await session.execute(
        insert(QuoteLine), [{"quote_id": quote_id, "position": n, **line} for n, line in enumerate(lines, start=1)]
    )


async def create(*, session: AsyncSession, quote_in: QuoteIn, actor: Actor, viewer: Viewer) -> Quote:
    notes = text.text(quote_in.notes, field="notes", max_length=text.LONG_TEXT_LENGTH)
    if await session.get(BusinessEntity, quote_in.business_entity_id) is None:
        raise ValidationFailed("Unknown business entity.", field="business_entity_id")
    parties = OrderCreate(
        business_entity_id=quote_in.business_entity_id,
        account_contact_id=quote_in.account_contact_id,
        end_customer_contact_id=quote_in.end_customer_contact_id,
        channel_contact_ids=quote_in.channel_contact_ids,
    )
    await orders.validated_parties(session, parties, viewer)
    valid_until = _valid_until(quote_in.valid_until)
    lines = await _resolved_lines(session, quote_in.business_entity_id, quote_in.lines)
    workflow = await engine.workflow_for(session=session, entity_type=QUOTE, business_entity_id=None)
    number = await allocate(
        session=session, business_entity_id=quote_in.business_entity_id, document_type=DocumentType.QUOTE
    )
    quote_id = uuid.uuid4()
    quote = Quote(
        id=quote_id,
        series_id=quote_id,
        business_entity_id=quote_in.business_entity_id,
        number=number,
        account_contact_id=quote_in.account_contact_id,
        end_customer_contact_id=quote_in.end_customer_contact_id,
        valid_until=valid_until,
        status=workflow.first_step.status_name,
        notes=notes,
        created_by_account_id=actor.account_id,
    )
    session.add(quote)
    await session.flush()
    return await _started(session, quote, list(quote_in.channel_contact_ids), lines, workflow, actor)


async def _started(
    session: AsyncSession,
    quote: Quote,
    channel: list[uuid.UUID],
    lines: list[dict[str, Any]],
    workflow: engine.Workflow,
    actor: Actor,
) -> Quote:
    if channel:
        await session.execute(
            insert(QuoteChannel),
            [{"quote_id": quote.id, "position": p, "contact_id": c} for p, c in enumerate(channel, start=1)],
        )
    await _insert_lines(session, quote.id, lines)
    await record(
        session=session,
        actor=actor,
        action="quote.create",
        entity_type=QUOTE,
        entity_id=quote.id,
        before=None,
        after={"number": quote.number, "revision": quote.revision, "lines": len(lines)},
    )
    await engine.initialize(session=session, entity_type=QUOTE, entity=quote, workflow=workflow, actor=actor)
    return quote


async def _locked(session: AsyncSession, quote_id: uuid.UUID, viewer: Viewer) -> Quote:
    """The quote, row-locked (two acceptances or revisions wait for each other), if the viewer
    may see it."""
    quote = await session.scalar(
        select(Quote)
        .where(Quote.id == quote_id, policy.visible(viewer, Quote))
        .with_for_update(of=Quote)
        .execution_options(populate_existing=True)
    )
    if quote is None:
        raise NotFound("Quote", quote_id, field="id")
    return quote


async def change_draft(*, session: AsyncSession, quote_id: uuid.UUID, change: DraftChange, actor: Actor) -> Quote:
    quote = await _locked(session, quote_id, policy.STAFF)
    if quote.status != "draft":
        raise QuoteNotEditable(
            f"Quote {quote.number} is {quote.status}: only a draft changes (revise a sent quote).", status=quote.status
        )
    before = {"valid_until": quote.valid_until.isoformat(), "notes": quote.notes}
    if change.valid_until is not None:
        quote.valid_until = _valid_until(change.valid_until)
    if change.notes is not None:
        quote.notes = text.text(change.notes, field="notes", max_length=text.LONG_TEXT_LENGTH)
    if change.lines is not None:
        lines = await _resolved_lines(session, quote.business_entity_id, change.lines)
        await session.execute(delete(QuoteLine).where(QuoteLine.quote_id == quote.id))
        await _insert_lines(session, quote.id, lines)
    quote.updated_at = func.now()
    await session.flush()
    await record(
        session=session,
        actor=actor,
        action="quote.update",
        entity_type=QUOTE,
        entity_id=quote.id,
        before=before,
        after={
            "valid_until": quote.valid_until.isoformat(),
            "notes": quote.notes,
            "lines_replaced": bool(change.lines),
        },
    )
    return quote


async def revise(*, session: AsyncSession, quote_id: uuid.UUID, actor: Actor) -> Quote:
    """A new draft revision of a sent quote (same number, next revision, the same parties and
    lines); the sent one is superseded and stays as it was sent."""
    old = await _locked(session, quote_id, policy.STAFF)
    if old.status != "sent":
        raise QuoteNotEditable(
            f"Quote {old.number} is {old.status}: a sent quote is revised (a draft is changed directly).",
            status=old.status,
        )
    workflow = await engine.workflow_for(session=session, entity_type=QUOTE, business_entity_id=None)
    new = Quote(
        id=uuid.uuid4(),
        series_id=old.series_id,
        supersedes_id=old.id,
        business_entity_id=old.business_entity_id,
        number=old.number,
        revision=old.revision + 1,
        account_contact_id=old.account_contact_id,
        end_customer_contact_id=old.end_customer_contact_id,
        valid_until=max(old.valid_until, today()),
        status=workflow.first_step.status_name,
        notes=old.notes,
        created_by_account_id=actor.account_id,
    )
    session.add(new)
    await session.flush()
    channel = (await channels_of_many(session=session, quote_ids=[old.id])).get(old.id, [])
    lines = (await lines_of_many(session=session, quote_ids=[old.id])).get(old.id, [])
    copied = [{c.key: getattr(line, c.key) for c in _LINE_VALUES} for line in lines]
    await engine.change_status(
        session=session,
        entity_type=QUOTE,
        entity_id=old.id,
        to_status="superseded",
        actor=actor,
        reason=f"Revision {new.revision} supersedes it.",
    )
    return await _started(session, new, [c.contact_id for c in channel], copied, workflow, actor)


_LINE_VALUES: Final = (
    QuoteLine.article_id,
    QuoteLine.description,
    QuoteLine.quantity,
    QuoteLine.unit_price,
    QuoteLine.discount_percent,
    QuoteLine.vat_rate,
    QuoteLine.is_commissionable,
)


async def accept(*, session: AsyncSession, quote_id: uuid.UUID, actor: Actor, viewer: Viewer) -> uuid.UUID:
    """Create the order of a sent, valid quote, copying its parties, chain and lines, in this
    transaction; the quote is accepted and the order walks to "accepted" where its workflow has
    that step. Anyone who sees the quote may accept it (its customer, a partner of its chain,
    staff). Returns the order's id."""
    quote = await _locked(session, quote_id, viewer)
    if quote.status != "sent":
        raise QuoteNotAcceptable(
            f"Quote {quote.number} is {quote.status}; only a sent quote is accepted.", status=quote.status
        )
    if quote.valid_until < today():
        raise QuoteNotAcceptable(f"Quote {quote.number} expired on {quote.valid_until.isoformat()}.", status="expired")
    channel = (await channels_of_many(session=session, quote_ids=[quote.id])).get(quote.id, [])
    lines = (await lines_of_many(session=session, quote_ids=[quote.id])).get(quote.id, [])
    cascade = actor.cascaded("quote.accept")
    order = await orders.create(
        session=session,
        order_in=OrderCreate(
            business_entity_id=quote.business_entity_id,
            account_contact_id=quote.account_contact_id,
            end_customer_contact_id=quote.end_customer_contact_id,
            channel_contact_ids=[c.contact_id for c in channel],
            notes=f"From quote {quote.number} (revision {quote.revision}).",
        ),
        actor=cascade,
        viewer=policy.STAFF,
    )
    for line in lines:
        line_in = LineIn(**{c.key: getattr(line, c.key) for c in _LINE_VALUES})
        await orders.add_line(session=session, order_id=order.id, line_in=line_in, actor=cascade)
    quote.order_id = order.id
    await session.flush()
    await engine.change_status(
        session=session, entity_type=QUOTE, entity_id=quote.id, to_status="accepted", actor=actor
    )
    await engine.advance(
        session=session,
        entity_type=EntityType.ORDER.value,
        entity_id=order.id,
        to_status=ORDER_STEP_ON_ACCEPTANCE,
        actor=cascade,
        reason=f"Quote {quote.number} accepted.",
    )
    return order.id


async def _refuse_acceptance_elsewhere(session: AsyncSession, event: StatusChanged) -> None:
    """A quote is accepted only by `accept`, which makes its order first: a plain status change
    to "accepted" would leave a quote accepted with no order."""
    if event.entity_type != QUOTE or event.to_status != "accepted":
        return
    if await session.scalar(select(Quote.order_id).where(Quote.id == event.entity_id)) is None:
        raise ValidationFailed("Accept a quote with acceptQuote: it creates the order.", field="to_status")


async def expire(*, session: AsyncSession, as_of: date) -> int:
    """Sent quotes past their validity date become expired (the scheduled job, daily)."""
    due = list(
        await session.scalars(
            select(Quote.id).where(Quote.status == "sent", Quote.valid_until < as_of).order_by(Quote.id)
        )
    )
    for quote_id in due:
        await engine.change_status(
            session=session,
            entity_type=QUOTE,
            entity_id=quote_id,
            to_status="expired",
            actor=SYSTEM.cascaded(EXPIRY),
            reason=f"Valid until before {as_of.isoformat()}.",
        )
    return len(due)


async def _daily(context: JobContext, now: datetime) -> str:
    async with context.sessions() as session, session.begin():
        expired = await expire(session=session, as_of=now.astimezone(BUSINESS_TIMEZONE).date())
    return f"{expired} expired"


# --- reads ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteFilter:
    statuses: Collection[str] = ()
    business_entity_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    """A party of the quote (account, end customer, or in the chain)."""


def _filtered(stmt: Any, filter_in: QuoteFilter, viewer: Viewer) -> Any:
    stmt = stmt.where(policy.visible(viewer, Quote))
    if filter_in.statuses:
        stmt = stmt.where(Quote.status.in_(list(filter_in.statuses)))
    if filter_in.business_entity_id is not None:
        stmt = stmt.where(Quote.business_entity_id == filter_in.business_entity_id)
    if filter_in.contact_id is not None:
        contact = filter_in.contact_id
        stmt = stmt.where(
            (Quote.account_contact_id == contact)
            | (Quote.end_customer_contact_id == contact)
            | Quote.id.in_(select(QuoteChannel.quote_id).where(QuoteChannel.contact_id == contact))
        )
    return stmt


count, search = reads.listing(Quote, _filtered, Quote.created_at.desc(), Quote.id.desc())  # newest first


async def channels_of_many(*, session: AsyncSession, quote_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    return await reads.visible_by(
        session, QuoteChannel, QuoteChannel.quote_id, quote_ids, policy.STAFF, QuoteChannel.position
    )


async def lines_of_many(*, session: AsyncSession, quote_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    return await reads.visible_by(session, QuoteLine, QuoteLine.quote_id, quote_ids, policy.STAFF, QuoteLine.position)


def wire() -> None:
    register(EntityAdapter(entity_type=EntityType.QUOTE, model=Quote, name="Quote"))
    events.subscribe(StatusChanged, _refuse_acceptance_elsewhere)
    schedules.register(
        schedules.Schedule(
            name=EXPIRY,
            cron="5 0 * * *",
            description="Sent quotes past their validity date become expired.",
            handler=_daily,
        )
    )
