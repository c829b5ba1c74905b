"""Invoices and credit notes: issuing them from an order's lines, the order's billing state, reads.

The rules (docs/finance.md):
- an invoice bills lines of one order, all its unbilled lines or the ones chosen; a line is
  billed at most once at a time (the order is locked while invoicing, and the database keeps
  one invoice line per order line and billing round);
- an invoice copies what it bills: the seller (the brand) and the buyer (the account contact)
  as they are now, the lines, the totals of the one totals computation of orders; its number
  comes from the brand's invoice series in the same transaction; it never changes afterwards;
- a credit note negates lines of one invoice (each at most once), takes its number from the
  same series, and is set off against the invoice when nothing was paid on it yet; once every
  line of an invoice is credited the invoice is `credited`, and its lines can be billed again;
- the order's billing state is derived: not billed, partly billed, billed (every line on an
  uncredited invoice), paid (billed, and every such invoice paid); a step flagged
  `requires_billing` may be entered only when the order is billed or paid;
- a billed line cannot change, and a line that was ever billed cannot be removed.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Select, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app import events, text
from app.access import policy
from app.access.policy import Viewer
from app.access.reads import visible_by, visible_by_id
from app.audit.service import Actor, record, snapshot
from app.business_entities.models import BusinessEntity
from app.contacts.models import ADDRESS_FIELDS, Contact
from app.db import any_of, any_of_ids, by_keys, columns, constraint_name, read
from app.errors import NotFound, ValidationFailed
from app.finance.errors import LineAlreadyInvoiced, NothingToCredit, NothingToInvoice, OrderNotBilled
from app.finance.models import Invoice, InvoiceKind, InvoiceLine, Payment, PaymentAllocation
from app.finance.pdf import render
from app.numbering.service import DocumentType, allocate, today
from app.orders.models import LineItem, Order
from app.orders.service import OrderLineChanging, lines_of_many, totals
from app.status import engine
from app.status.engine import StatusChanged
from app.status.models import EntityType, StepType
from app.status.registry import EntityAdapter, register

INVOICE: Final = EntityType.INVOICE.value
CREDIT_NOTE: Final = EntityType.CREDIT_NOTE.value
STANDARD_PAYMENT_TERMS_DAYS: Final = 14
PAID: Final = "paid"
"""The invoice workflow's status of a paid invoice."""
PARTIALLY_PAID: Final = "partially_paid"
CREDITED: Final = "credited"
"""The invoice workflow's exit: every line credited."""
SETTLED: Final = "settled"
"""The credit note workflow's final status: set off against its invoice, or refunded."""
CASCADE_SYSTEM: Final = "invoicing"


class BillingState(enum.StrEnum):
    NOT_BILLED = "not_billed"
    PARTLY_BILLED = "partly_billed"
    BILLED = "billed"
    PAID = "paid"


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceRequest:
    order_id: uuid.UUID
    line_ids: Sequence[uuid.UUID] | None = None
    """The order lines to bill; None: every line not billed yet."""
    issue_date: date | None = None
    """Today (Dutch time) unless given; the API does not offer it (the demo backdates)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditRequest:
    invoice_id: uuid.UUID
    reason: str
    line_ids: Sequence[uuid.UUID] | None = None
    """The invoice lines to credit; None: every line not credited yet."""
    issue_date: date | None = None

    def __post_init__(self) -> None:
        reason = text.text(self.reason, field="reason", max_length=text.REASON_LENGTH)
        if not reason:
            raise ValidationFailed("A credit note says why.", field="reason")
        object.__setattr__(self, "reason", reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceFilter:
    kinds: Collection[InvoiceKind] = ()
    statuses: Collection[str] = ()
    business_entity_id: uuid.UUID | None = None
    account_contact_id: uuid.UUID | None = None
    overdue: bool | None = None
    issued_from: date | None = None
    issued_to: date | None = None

    def __post_init__(self) -> None:
        statuses = text.lines(self.statuses, field="status", max_length=text.STATUS_NAME_LENGTH)
        object.__setattr__(self, "statuses", statuses)
        if self.issued_from and self.issued_to and self.issued_from > self.issued_to:
            raise ValidationFailed("The period ends before it starts.", field="issued")


# --- what a document copies --------------------------------------------------------------------

_PARTY_FIELDS = (*ADDRESS_FIELDS, "vat_number", "email")


def _seller(brand: BusinessEntity) -> dict[str, Any]:
    return {
        "name": brand.legal_name or brand.name,
        **{name: getattr(brand, name) for name in _PARTY_FIELDS},
        "chamber_of_commerce_number": brand.chamber_of_commerce_number,
        "iban": brand.iban,
    }


def _buyer(contact: Contact) -> dict[str, Any]:
    return {"name": contact.display_name, **{name: getattr(contact, name) for name in _PARTY_FIELDS}}


def _copied(line: Any, **values: Any) -> dict[str, Any]:
    fields = ("article_id", "description", "quantity", "unit_price", "discount_percent", "vat_rate")
    return {**{name: getattr(line, name) for name in fields}, "is_commissionable": line.is_commissionable, **values}


# --- billing state of lines ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Billed:
    """What the documents say of one order line: its billing rounds so far, and the invoice line
    that bills it now (none once credited)."""

    rounds: int
    open_line_id: uuid.UUID | None
    open_invoice_number: str | None


def _credited(line: Any) -> Any:
    credit = aliased(InvoiceLine)
    return exists().where(credit.credits_line_id == line.id)


async def _billing_of_lines(session: AsyncSession, line_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, _Billed]:
    billed = aliased(InvoiceLine)
    rows = await read(
        session,
        select(
            billed.line_item_id, billed.id, billed.billing_round, Invoice.number, _credited(billed).label("credited")
        )
        .join(Invoice, Invoice.id == billed.invoice_id)
        .where(any_of(billed.line_item_id, line_ids), billed.billing_round.is_not(None)),
    )
    result: dict[uuid.UUID, _Billed] = {}
    for row in rows:
        seen = result.get(row.line_item_id, _Billed(0, None, None))
        open_now = not row.credited
        result[row.line_item_id] = _Billed(
            rounds=max(seen.rounds, row.billing_round),
            open_line_id=row.id if open_now else seen.open_line_id,
            open_invoice_number=row.number if open_now else seen.open_invoice_number,
        )
    return result


# --- invoices ------------------------------------------------------------------------------------


async def _locked(session: AsyncSession, model: type[Any], entity_id: uuid.UUID, name: str, field: str) -> Any:
    row = await session.get(model, entity_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound(name, entity_id, field=field)
    return row


async def _start(session: AsyncSession, entity_type: str, document: Invoice, actor: Actor, reason: str) -> None:
    workflow = await engine.workflow_for(
        session=session, entity_type=entity_type, business_entity_id=document.business_entity_id
    )
    document.status = workflow.first_step.status_name
    session.add(document)
    await session.flush()
    await engine.initialize(
        session=session, entity_type=entity_type, entity=document, workflow=workflow, actor=actor, reason=reason
    )


async def _add_lines(session: AsyncSession, document: Invoice, lines: list[dict[str, Any]]) -> None:
    session.add_all(
        InvoiceLine(invoice_id=document.id, order_id=document.order_id, position=position, **values)
        for position, values in enumerate(lines, start=1)
    )
    try:
        await session.flush()
    except IntegrityError as exc:
        if constraint_name(exc) == "uq_invoice_line_billing_round":
            # only a writer that bypassed the order lock gets here
            raise LineAlreadyInvoiced(
                "A line was billed by another invoice at the same time.", invoice_number="", field="line_ids"
            ) from None
        raise


async def _issue(
    session: AsyncSession,
    document: Invoice,
    lines: list[dict[str, Any]],
    actor: Actor,
    *,
    reason: str,
    action: str,
    audit: dict[str, Any],
) -> None:
    """Number, total, start in its workflow, write the lines and the audit row of a new document."""
    entity_type = INVOICE if document.kind is InvoiceKind.INVOICE else CREDIT_NOTE
    document.number = await allocate(
        session=session,
        business_entity_id=document.business_entity_id,
        document_type=DocumentType.INVOICE,
        year=document.issue_date.year,
    )
    computed = totals.compute(_PricedLine(**values) for values in lines)
    document.net_amount, document.vat_amount, document.gross_amount = computed.net, computed.vat_total, computed.gross
    await _start(session, entity_type, document, actor, reason)
    await _add_lines(session, document, lines)
    await record(
        session=session, actor=actor, action=action, entity_type=entity_type, entity_id=document.id, before=None,
        after={**snapshot(document), **audit},
    )  # fmt: skip


def _chosen(requested: Sequence[uuid.UUID] | None, by_id: dict[uuid.UUID, Any], entity: str) -> list[Any] | None:
    """The rows asked for by id, each once, in the order asked; None when no choice was made."""
    if requested is None:
        return None
    if not requested:
        raise ValidationFailed("Choose at least one line, or leave the choice out.", field="line_ids")
    unknown = next((i for i in requested if i not in by_id), None)
    if unknown is not None:
        raise NotFound(entity, unknown, field="line_ids")
    return [by_id[i] for i in dict.fromkeys(requested)]


@dataclass(frozen=True, slots=True)
class _PricedLine:
    article_id: uuid.UUID | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    vat_rate: Decimal
    is_commissionable: bool
    line_item_id: uuid.UUID | None = None
    billing_round: int | None = None
    credits_line_id: uuid.UUID | None = None
    net_amount: Decimal | None = None


async def generate_invoice(*, session: AsyncSession, request: InvoiceRequest, actor: Actor) -> Invoice:
    """Bill the order's chosen lines, or all its unbilled ones, on a new invoice."""
    order = await _locked(session, Order, request.order_id, "Order", "order_id")
    key = (EntityType.ORDER.value, order.id)
    current = (await engine.current_of_many(session=session, keys=[key])).get(key)
    if current is not None and current[1].step_type is StepType.EXIT:
        raise ValidationFailed(f"The order is {current[0].status!r}: it is not billed.", field="order_id")
    order_lines = (await lines_of_many(session=session, order_ids=[order.id])).get(order.id, [])
    by_id = {line.id: line for line in order_lines}
    billing = await _billing_of_lines(session, list(by_id))
    chosen = _chosen(request.line_ids, by_id, "LineItem")
    if chosen is not None:
        billed = next((line for line in chosen if billing.get(line.id, _Billed(0, None, None)).open_line_id), None)
        if billed is not None:
            number = billing[billed.id].open_invoice_number or ""
            raise LineAlreadyInvoiced(
                f"The line {billed.description!r} is billed on {number}.", invoice_number=number, field="line_ids"
            )
    else:
        chosen = [line for line in order_lines if not billing.get(line.id, _Billed(0, None, None)).open_line_id]
        if not chosen:
            message = "Every line of the order is billed." if order_lines else "The order has no lines."
            raise NothingToInvoice(message, field="order_id")

    brand = await session.get(BusinessEntity, order.business_entity_id)
    account = await session.get(Contact, order.account_contact_id)
    assert brand is not None and account is not None, "kept by foreign keys"
    issued = request.issue_date or today()
    terms = account.payment_terms_days if account.payment_terms_days is not None else STANDARD_PAYMENT_TERMS_DAYS
    lines = [
        _copied(
            line,
            line_item_id=line.id,
            billing_round=billing.get(line.id, _Billed(0, None, None)).rounds + 1,
            net_amount=totals.line_net(line),
        )
        for line in chosen
    ]
    invoice = Invoice(
        kind=InvoiceKind.INVOICE,
        business_entity_id=order.business_entity_id,
        order_id=order.id,
        account_contact_id=account.id,
        seller=_seller(brand),
        buyer=_buyer(account),
        issue_date=issued,
        due_date=issued + timedelta(days=terms),
        created_by_account_id=actor.account_id,
    )
    await _issue(
        session, invoice, lines, actor, reason=f"Invoice for order {order.number}", action="invoice.issue",
        audit={"line_item_ids": [line["line_item_id"] for line in lines]},
    )  # fmt: skip
    return invoice


async def credit_invoice(*, session: AsyncSession, request: CreditRequest, actor: Actor) -> Invoice:
    """A credit note negating the chosen lines of an invoice, or all its lines not credited yet."""
    invoice = await _locked(session, Invoice, request.invoice_id, "Invoice", "invoice_id")
    if invoice.kind is not InvoiceKind.INVOICE:
        raise ValidationFailed("A credit note is corrected by an invoice, not credited.", field="invoice_id")
    invoice_lines = await read(
        session,
        select(*columns(InvoiceLine), _credited(InvoiceLine).label("credited"))
        .where(InvoiceLine.invoice_id == invoice.id)
        .order_by(InvoiceLine.position),
    )
    by_id = {line.id: line for line in invoice_lines}
    chosen = _chosen(request.line_ids, by_id, "InvoiceLine")
    if chosen is not None:
        credited = next((line for line in chosen if line.credited), None)
        if credited is not None:
            raise NothingToCredit(f"The line {credited.description!r} is credited already.", field="line_ids")
    else:
        chosen = [line for line in invoice_lines if not line.credited]
        if not chosen:
            raise NothingToCredit(f"Every line of {invoice.number} is credited already.", field="invoice_id")

    issued = request.issue_date or today()
    lines = [
        _copied(line, line_item_id=line.line_item_id, credits_line_id=line.id, quantity=-line.quantity,
                net_amount=-line.net_amount)
        for line in chosen
    ]  # fmt: skip
    note = Invoice(
        kind=InvoiceKind.CREDIT_NOTE,
        business_entity_id=invoice.business_entity_id,
        order_id=invoice.order_id,
        account_contact_id=invoice.account_contact_id,
        credits_invoice_id=invoice.id,
        seller=invoice.seller,
        buyer=invoice.buyer,
        issue_date=issued,
        due_date=issued,
        reason=request.reason,
        created_by_account_id=actor.account_id,
    )
    await _issue(
        session, note, lines, actor, reason=f"Credits {invoice.number}", action="invoice.credit",
        audit={"credited_line_ids": [line.id for line in chosen]},
    )  # fmt: skip
    if len(chosen) == sum(1 for line in invoice_lines if not line.credited):
        await engine.change_status(
            session=session, entity_type=INVOICE, entity_id=invoice.id, to_status=CREDITED,
            actor=actor.cascaded(CASCADE_SYSTEM), reason=f"Credited in full by {note.number}",
        )  # fmt: skip
    # set off against what is still owed; what was paid too much waits for a refund
    await settle_invoice(session, invoice, actor)
    return note


# --- what is owed ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Owed:
    """An invoice's money: what it still asks (negative: owed back to the customer) and what was
    paid on it."""

    open: Decimal
    paid: Decimal


def owed_expression(invoice: Any) -> tuple[Any, Any]:
    """SQL for an invoice row's open amount and paid amount: its gross, plus its credit notes
    (negative), less what payments allocated to it, plus what was refunded on its credit notes.
    Allocations to an invoice come from incoming payments, to a credit note from refunds."""
    note, allocated, refunded = aliased(Invoice), aliased(PaymentAllocation), aliased(PaymentAllocation)
    credited_note = aliased(Invoice)
    credits = select(func.coalesce(func.sum(note.gross_amount), 0)).where(note.credits_invoice_id == invoice.id)
    paid = select(func.coalesce(func.sum(allocated.amount), 0)).where(allocated.invoice_id == invoice.id)
    refunds = (
        select(func.coalesce(func.sum(refunded.amount), 0))
        .join(credited_note, credited_note.id == refunded.invoice_id)
        .where(credited_note.credits_invoice_id == invoice.id)
    )
    paid_amount = paid.scalar_subquery()
    return (
        invoice.gross_amount + credits.scalar_subquery() - paid_amount + refunds.scalar_subquery(),
        paid_amount,
    )


@functools.cache
def _owed_of_ids() -> Select[Any]:
    """Built once: building it took 1.7 ms, more than running it for a page (aliases)."""
    open_amount, paid = owed_expression(Invoice)
    return by_keys(
        select(Invoice.id, open_amount.label("open"), paid.label("paid")).where(
            any_of_ids(Invoice.id), Invoice.kind == InvoiceKind.INVOICE
        )
    )


async def owed_of_many(*, session: AsyncSession, invoice_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Owed]:
    """Each invoice's open and paid amounts, in one statement (under the caller's visibility)."""
    rows = await read(session, _owed_of_ids(), ids=invoice_ids)
    return {row.id: Owed(open=Decimal(row.open), paid=Decimal(row.paid)) for row in rows}


async def owed_now(session: AsyncSession, invoice_id: uuid.UUID) -> Owed:
    return (await owed_of_many(session=session, invoice_ids=[invoice_id]))[invoice_id]


async def settle_invoice(session: AsyncSession, invoice: Invoice, actor: Actor) -> None:
    """Move an invoice (locked by the caller) and its credit notes to what their money says:
    paid when nothing is open and something was paid, partially paid when part was; its credit
    notes settled once nothing is owed back."""
    owed = await owed_now(session, invoice.id)
    cascade = actor.cascaded(CASCADE_SYSTEM)
    if invoice.status not in (PAID, CREDITED) and owed.paid > 0:
        target = PAID if owed.open <= 0 else PARTIALLY_PAID
        if invoice.status != target:
            await engine.change_status(
                session=session, entity_type=INVOICE, entity_id=invoice.id, to_status=target, actor=cascade,
                reason="payment allocated",
            )  # fmt: skip
    if owed.open >= 0:
        notes = await session.scalars(
            select(Invoice)
            .where(Invoice.credits_invoice_id == invoice.id, Invoice.status != SETTLED)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        for note in notes:
            await engine.change_status(
                session=session, entity_type=CREDIT_NOTE, entity_id=note.id, to_status=SETTLED, actor=cascade,
                reason=f"Nothing owed back on {invoice.number}",
            )  # fmt: skip


# --- the order's billing state -------------------------------------------------------------------


async def billing_state_of_many(
    *, session: AsyncSession, order_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, BillingState]:
    """Each order's billing state, in one statement (the caller has checked the orders' visibility;
    under row-level security the rows read are the viewer's anyway)."""
    rows = await read(session, _billing_states_of_ids(), ids=order_ids)
    states = dict.fromkeys(order_ids, BillingState.NOT_BILLED)
    for row in rows:
        if row.billed == 0:
            continue
        if row.billed < row.lines:
            states[row.order_id] = BillingState.PARTLY_BILLED
        else:
            states[row.order_id] = BillingState.PAID if row.all_paid else BillingState.BILLED
    return states


@functools.cache
def _billing_states_of_ids() -> Select[Any]:
    """Built once: building it took 1.2-3.5 ms, more than running it for a page (aliases)."""
    billed = aliased(InvoiceLine)
    line_billed = exists().where(
        billed.line_item_id == LineItem.id, billed.billing_round.is_not(None), ~_credited(billed)
    )
    lines = (
        select(
            LineItem.order_id.label("order_id"),
            func.count().label("lines"),
            func.count().filter(line_billed).label("billed"),
        )
        .where(any_of_ids(LineItem.order_id))
        .group_by(LineItem.order_id)
        .subquery()
    )
    paid = (
        select(Invoice.order_id, func.bool_and(Invoice.status == PAID).label("all_paid"))
        .where(any_of_ids(Invoice.order_id), Invoice.kind == InvoiceKind.INVOICE, Invoice.status != CREDITED)
        .group_by(Invoice.order_id)
        .subquery()
    )
    return by_keys(
        select(lines.c.order_id, lines.c.lines, lines.c.billed, paid.c.all_paid).outerjoin(
            paid, paid.c.order_id == lines.c.order_id
        )
    )


# --- guards on orders (wired below) --------------------------------------------------------------


async def _on_status_changed(session: AsyncSession, event: StatusChanged) -> None:
    if event.entity_type != EntityType.ORDER.value or not event.to_step.requires_billing:
        return
    state = (await billing_state_of_many(session=session, order_ids=[event.entity_id]))[event.entity_id]
    if state not in (BillingState.BILLED, BillingState.PAID):
        raise OrderNotBilled(event.to_status, state.value.replace("_", " "))


async def _on_line_changing(session: AsyncSession, event: OrderLineChanging) -> None:
    billing = (await _billing_of_lines(session, [event.line_id])).get(event.line_id)
    if billing is None:
        return
    if billing.open_line_id is not None:
        number = billing.open_invoice_number or ""
        raise LineAlreadyInvoiced(
            f"The line is billed on {number}: credit it before changing it.", invoice_number=number, field="id"
        )
    if event.removing:
        raise LineAlreadyInvoiced(
            "The line was billed before: it stays on the order (credited).", invoice_number="", field="id"
        )


def wire() -> None:
    """Invoices and credit notes have a status; orders are held to their billing (app/wiring.py)."""
    register(EntityAdapter(entity_type=EntityType.INVOICE, model=Invoice, name="Invoice"))
    register(EntityAdapter(entity_type=EntityType.CREDIT_NOTE, model=Invoice, name="CreditNote"))
    register(EntityAdapter(entity_type=EntityType.PAYMENT, model=Payment, name="Payment"))
    events.subscribe(StatusChanged, _on_status_changed)
    events.subscribe(OrderLineChanging, _on_line_changing)


# --- reads ---------------------------------------------------------------------------------------


def _filtered(stmt: Select[Any], filter_in: InvoiceFilter, viewer: Viewer) -> Select[Any]:
    stmt = stmt.where(policy.visible(viewer, Invoice))
    if filter_in.kinds:
        stmt = stmt.where(any_of(Invoice.kind, [k.value for k in filter_in.kinds]))
    if filter_in.statuses:
        stmt = stmt.where(any_of(Invoice.status, filter_in.statuses))
    if filter_in.business_entity_id is not None:
        stmt = stmt.where(Invoice.business_entity_id == filter_in.business_entity_id)
    if filter_in.account_contact_id is not None:
        stmt = stmt.where(Invoice.account_contact_id == filter_in.account_contact_id)
    if filter_in.issued_from is not None:
        stmt = stmt.where(Invoice.issue_date >= filter_in.issued_from)
    if filter_in.issued_to is not None:
        stmt = stmt.where(Invoice.issue_date <= filter_in.issued_to)
    if filter_in.overdue is not None:
        overdue = (Invoice.kind == InvoiceKind.INVOICE) & _open_status() & (Invoice.due_date < today())
        stmt = stmt.where(overdue if filter_in.overdue else ~overdue)
    return stmt


def _open_status() -> Any:
    return Invoice.status.not_in((PAID, CREDITED))


async def pdf_of(*, session: AsyncSession, document_id: uuid.UUID, viewer: Viewer) -> tuple[str, bytes] | None:
    """The document's number and PDF, or None when the viewer does not see it (or it does not exist)."""
    document = (await get_many(session=session, ids=[document_id], viewer=viewer)).get(document_id)
    if document is None:
        return None
    lines = (await lines_of_documents_many(session=session, invoice_ids=[document_id], viewer=viewer)).get(
        document_id, []
    )
    credited = None
    if document.credits_invoice_id is not None:
        invoices = await get_many(session=session, ids=[document.credits_invoice_id], viewer=viewer)
        credited = invoices[document.credits_invoice_id].number
    return document.number, await asyncio.to_thread(render, document, lines, credited)


def is_overdue(status: str, due_date: date, on: date | None = None) -> bool:
    """An invoice past its due date that is neither paid nor credited (`_filtered` says the same
    in SQL)."""
    return status not in (PAID, CREDITED) and due_date < (on or today())


async def count(*, session: AsyncSession, filter_in: InvoiceFilter, viewer: Viewer) -> int:
    return int(await session.scalar(_filtered(select(func.count()).select_from(Invoice), filter_in, viewer)) or 0)


async def search(
    *, session: AsyncSession, filter_in: InvoiceFilter, viewer: Viewer, offset: int, limit: int
) -> list[Any]:
    """Newest first (by number: the series is in issue order per brand and year)."""
    return await read(
        session,
        _filtered(select(*columns(Invoice)), filter_in, viewer)
        .order_by(Invoice.issue_date.desc(), Invoice.number.desc())
        .offset(offset)
        .limit(limit),
    )


async def get_many(*, session: AsyncSession, ids: Collection[uuid.UUID], viewer: Viewer) -> dict[uuid.UUID, Any]:
    return await visible_by_id(session, Invoice, ids, viewer)


async def get_by_number(*, session: AsyncSession, number: str, viewer: Viewer) -> Any | None:
    rows = await read(
        session, select(*columns(Invoice)).where(Invoice.number == number, policy.visible(viewer, Invoice))
    )
    return rows[0] if rows else None


async def of_orders_many(
    *, session: AsyncSession, order_ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, list[Any]]:
    """Each order's invoices and credit notes, in the order they were issued."""
    return await visible_by(session, Invoice, Invoice.order_id, order_ids, viewer, Invoice.created_at, Invoice.number)


async def credit_notes_of_many(
    *, session: AsyncSession, invoice_ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, list[Any]]:
    return await visible_by(
        session, Invoice, Invoice.credits_invoice_id, invoice_ids, viewer, Invoice.created_at, Invoice.number
    )


async def lines_of_documents_many(
    *, session: AsyncSession, invoice_ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, list[Any]]:
    return await visible_by(session, InvoiceLine, InvoiceLine.invoice_id, invoice_ids, viewer, InvoiceLine.position)
