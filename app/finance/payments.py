"""Payments: recorded by hand or from a bank statement, allocated to invoices, refunds against
credit notes, the rest kept on the account (docs/finance.md, "Payments").

- an allocation never exceeds what its document still asks nor what its payment has left; the
  payment and the documents are locked (payment first, then documents in id order) while
  allocating, so concurrent allocations to one invoice cannot over-allocate it;
- an incoming payment pays invoices; a refund (outgoing) pays back what credit notes owe;
- what an incoming payment does not allocate waits (`unallocated`, `partially_allocated`) or is
  explicitly kept as the account's credit (`on_account`); allocating the rest later is allowed;
- allocations are append-only; the documents' statuses follow (`service.settle_invoice`).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import text
from app.access import policy
from app.access.policy import Viewer
from app.access.reads import visible_by, visible_by_id
from app.audit.service import Actor, record, snapshot
from app.business_entities.models import BusinessEntity
from app.contacts.models import Contact
from app.db import any_of, columns, read
from app.errors import NotFound, ValidationFailed
from app.finance.errors import AmountExceedsOpen
from app.finance.models import Invoice, InvoiceKind, Payment, PaymentAllocation, PaymentDirection, PaymentMethod
from app.finance.service import owed_of_many, settle_invoice, today
from app.status import engine
from app.status.models import EntityType

PAYMENT: Final = EntityType.PAYMENT.value
MAX_AMOUNT: Final = Decimal("9999999999.99")
PARTIALLY_ALLOCATED, ON_ACCOUNT, ALLOCATED = "partially_allocated", "on_account", "allocated"
ALLOCATION_SYSTEM: Final = "allocation"
"""Who moves a payment's status as it is allocated (the allocating account, marked so)."""
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}")


def money_amount(value: Decimal, field: str) -> Decimal:
    """A positive amount in cents, or ValidationFailed."""
    if not value.is_finite() or value <= 0 or value > MAX_AMOUNT:
        raise ValidationFailed(f"An amount is above 0 and at most {MAX_AMOUNT}.", field=field)
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationFailed("An amount is in cents (at most 2 decimals).", field=field)
    return value.quantize(Decimal("0.01"))


def iban(value: str | None, field: str) -> str | None:
    cleaned = text.line(value, field=field, max_length=42)
    if cleaned is None:
        return None
    compact = cleaned.replace(" ", "").upper()
    if not _IBAN.fullmatch(compact):
        raise ValidationFailed("Not an IBAN.", field=field)
    return compact


@dataclass(frozen=True, slots=True)
class AllocationIn:
    invoice_id: uuid.UUID
    amount: Decimal


def _allocations(allocations: Sequence[AllocationIn]) -> tuple[AllocationIn, ...]:
    cleaned = tuple(AllocationIn(a.invoice_id, money_amount(a.amount, "allocations")) for a in allocations)
    if len({a.invoice_id for a in cleaned}) != len(cleaned):
        raise ValidationFailed("Each document once per allocation.", field="allocations")
    return cleaned


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentIn:
    business_entity_id: uuid.UUID
    amount: Decimal
    paid_on: date
    method: PaymentMethod
    direction: PaymentDirection = PaymentDirection.INCOMING
    reference: str | None = None
    payer_name: str | None = None
    payer_iban: str | None = None
    contact_id: uuid.UUID | None = None
    allocations: Sequence[AllocationIn] = ()
    keep_rest_on_account: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", money_amount(self.amount, "amount"))
        object.__setattr__(self, "reference", text.text(self.reference, field="reference", max_length=500))
        object.__setattr__(self, "payer_name", text.line(self.payer_name, field="payer_name", max_length=200))
        object.__setattr__(self, "payer_iban", iban(self.payer_iban, "payer_iban"))
        object.__setattr__(self, "allocations", _allocations(self.allocations))
        if self.paid_on > today():
            raise ValidationFailed("A payment is not in the future.", field="paid_on")
        if self.direction is PaymentDirection.OUTGOING and self.contact_id is None and not self.allocations:
            raise ValidationFailed("A refund names the account or the credit notes it pays back.", field="contact_id")
        if self.keep_rest_on_account and self.contact_id is None:
            raise ValidationFailed("Credit is kept on an account: name the contact.", field="contact_id")


async def _lock_documents(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Invoice]:
    rows = await session.scalars(
        select(Invoice)
        .where(any_of(Invoice.id, ids))
        .order_by(Invoice.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.id: row for row in rows}


async def allocated_of_many(session: AsyncSession, payment_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    rows = await read(
        session,
        select(PaymentAllocation.payment_id, func.sum(PaymentAllocation.amount).label("total"))
        .where(any_of(PaymentAllocation.payment_id, payment_ids))
        .group_by(PaymentAllocation.payment_id),
    )
    return {row.payment_id: Decimal(row.total) for row in rows}


async def _apply(
    session: AsyncSession, payment: Payment, allocations: Sequence[AllocationIn], keep_rest: bool, actor: Actor
) -> None:
    """Allocate (the payment locked by the caller) and move the statuses on."""
    left = payment.amount - (await allocated_of_many(session, [payment.id])).get(payment.id, Decimal(0))
    wanted = sum((a.amount for a in allocations), Decimal(0))
    if wanted > left:
        raise AmountExceedsOpen(
            f"The allocations ({wanted}) exceed what the payment has left ({left}).", open_amount=left,
            field="allocations",
        )  # fmt: skip
    documents = await _lock_documents(session, [a.invoice_id for a in allocations])
    incoming = payment.direction is PaymentDirection.INCOMING
    invoices: dict[uuid.UUID, Invoice] = {}
    for allocation in allocations:
        document = documents.get(allocation.invoice_id)
        if document is None:
            raise NotFound("Invoice", allocation.invoice_id, field="allocations")
        if document.business_entity_id != payment.business_entity_id:
            raise ValidationFailed(f"{document.number} is another brand's document.", field="allocations")
        if incoming != (document.kind is InvoiceKind.INVOICE):
            kind = "invoices" if incoming else "credit notes"
            raise ValidationFailed(
                f"This payment is allocated to {kind}; {document.number} is not one.", field="allocations"
            )
        invoice_id = document.id if incoming else document.credits_invoice_id
        assert invoice_id is not None
        invoices[invoice_id] = documents.get(invoice_id) or await _lock_invoice(session, invoice_id)
    owed = await owed_of_many(session=session, invoice_ids=list(invoices))
    for allocation in allocations:
        document = documents[allocation.invoice_id]
        invoice_id = document.id if incoming else document.credits_invoice_id
        assert invoice_id is not None
        due = owed[invoice_id].open if incoming else -owed[invoice_id].open
        if allocation.amount > due:
            what = "still asks" if incoming else "owes back"
            raise AmountExceedsOpen(
                f"{document.number} {what} {max(due, Decimal(0))}; {allocation.amount} is more.",
                open_amount=max(due, Decimal(0)), field="allocations",
            )  # fmt: skip
        # two allocations to one invoice's documents in one call draw on the same amount
        owed[invoice_id] = dataclasses.replace(
            owed[invoice_id], open=owed[invoice_id].open + (-allocation.amount if incoming else allocation.amount)
        )
        session.add(
            PaymentAllocation(
                payment_id=payment.id, invoice_id=document.id, order_id=document.order_id, amount=allocation.amount,
                allocated_on=today(), created_by_account_id=actor.account_id,
            )
        )  # fmt: skip
    await session.flush()
    for invoice in invoices.values():
        await settle_invoice(session, invoice, actor)
    left -= wanted
    if left == 0:
        target: str | None = ALLOCATED
    elif keep_rest or payment.status == ON_ACCOUNT:
        target = ON_ACCOUNT  # the rest is (still) the account's credit
    else:
        target = PARTIALLY_ALLOCATED if left < payment.amount else None
    if target is not None and target != payment.status:
        await engine.change_status(
            session=session, entity_type=PAYMENT, entity_id=payment.id, to_status=target,
            actor=actor.cascaded(ALLOCATION_SYSTEM), reason="allocated",
        )  # fmt: skip
    if allocations:
        await record(
            session=session, actor=actor, action="payment.allocate", entity_type=PAYMENT, entity_id=payment.id,
            before=None, after={"allocations": [dataclasses.asdict(a) for a in allocations], "left": left},
        )  # fmt: skip


async def _lock_invoice(session: AsyncSession, invoice_id: uuid.UUID) -> Invoice:
    return (await _lock_documents(session, [invoice_id]))[invoice_id]


async def record_payment(
    *, session: AsyncSession, payment_in: PaymentIn, actor: Actor, statement_entry_id: uuid.UUID | None = None
) -> Payment:
    if await session.get(BusinessEntity, payment_in.business_entity_id) is None:
        raise NotFound("BusinessEntity", payment_in.business_entity_id, field="business_entity_id")
    if payment_in.contact_id is not None and await session.get(Contact, payment_in.contact_id) is None:
        raise NotFound("Contact", payment_in.contact_id, field="contact_id")
    workflow = await engine.workflow_for(
        session=session, entity_type=PAYMENT, business_entity_id=payment_in.business_entity_id
    )
    payment = Payment(
        business_entity_id=payment_in.business_entity_id,
        direction=payment_in.direction,
        amount=payment_in.amount,
        paid_on=payment_in.paid_on,
        method=payment_in.method,
        reference=payment_in.reference,
        payer_name=payment_in.payer_name,
        payer_iban=payment_in.payer_iban,
        contact_id=payment_in.contact_id,
        statement_entry_id=statement_entry_id,
        status=workflow.first_step.status_name,
        created_by_account_id=actor.account_id,
    )
    session.add(payment)
    await session.flush()
    await engine.initialize(session=session, entity_type=PAYMENT, entity=payment, workflow=workflow, actor=actor)
    await record(
        session=session, actor=actor, action="payment.record", entity_type=PAYMENT, entity_id=payment.id,
        before=None, after=snapshot(payment),
    )  # fmt: skip
    if payment_in.direction is PaymentDirection.OUTGOING and not payment_in.allocations:
        # a refund of the account's credit: nothing to allocate
        await engine.change_status(
            session=session, entity_type=PAYMENT, entity_id=payment.id, to_status=ALLOCATED, actor=actor,
            reason="refund of the account's credit",
        )  # fmt: skip
        return payment
    await _apply(session, payment, payment_in.allocations, payment_in.keep_rest_on_account, actor)
    return payment


async def allocate(
    *,
    session: AsyncSession,
    payment_id: uuid.UUID,
    allocations: Sequence[AllocationIn],
    keep_rest_on_account: bool,
    actor: Actor,
) -> Payment:
    """Allocate (more of) a payment: an unmatched bank payment, or credit kept on the account."""
    allocations = _allocations(allocations)
    if not allocations and not keep_rest_on_account:
        raise ValidationFailed("Allocate something, or keep the rest on the account.", field="allocations")
    payment = await session.get(Payment, payment_id, with_for_update=True, populate_existing=True)
    if payment is None:
        raise NotFound("Payment", payment_id, field="payment_id")
    if payment.status == ALLOCATED:
        raise AmountExceedsOpen("The payment is allocated in full.", open_amount=Decimal(0), field="payment_id")
    if keep_rest_on_account and payment.contact_id is None:
        raise ValidationFailed("Credit is kept on an account: the payment names no contact.", field="payment_id")
    await _apply(session, payment, allocations, keep_rest_on_account, actor)
    return payment


# --- reads ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentFilter:
    statuses: tuple[str, ...] = ()
    business_entity_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    direction: PaymentDirection | None = None

    def __post_init__(self) -> None:
        statuses = text.lines(self.statuses, field="status", max_length=text.STATUS_NAME_LENGTH)
        object.__setattr__(self, "statuses", statuses)


def _filtered(stmt: Any, filter_in: PaymentFilter, viewer: Viewer) -> Any:
    stmt = stmt.where(policy.visible(viewer, Payment))
    if filter_in.statuses:
        stmt = stmt.where(any_of(Payment.status, filter_in.statuses))
    if filter_in.business_entity_id is not None:
        stmt = stmt.where(Payment.business_entity_id == filter_in.business_entity_id)
    if filter_in.contact_id is not None:
        stmt = stmt.where(Payment.contact_id == filter_in.contact_id)
    if filter_in.direction is not None:
        stmt = stmt.where(Payment.direction == filter_in.direction)
    return stmt


async def count(*, session: AsyncSession, filter_in: PaymentFilter, viewer: Viewer) -> int:
    return int(await session.scalar(_filtered(select(func.count()).select_from(Payment), filter_in, viewer)) or 0)


async def search(
    *, session: AsyncSession, filter_in: PaymentFilter, viewer: Viewer, offset: int, limit: int
) -> list[Any]:
    return await read(
        session,
        _filtered(select(*columns(Payment)), filter_in, viewer)
        .order_by(Payment.paid_on.desc(), Payment.created_at.desc(), Payment.id)
        .offset(offset)
        .limit(limit),
    )


async def get_many(*, session: AsyncSession, ids: Collection[uuid.UUID], viewer: Viewer) -> dict[uuid.UUID, Any]:
    return await visible_by_id(session, Payment, ids, viewer)


async def allocations_of_documents_many(
    *, session: AsyncSession, invoice_ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, list[Any]]:
    allocation = PaymentAllocation
    return await visible_by(
        session, allocation, allocation.invoice_id, invoice_ids, viewer, allocation.created_at, allocation.id
    )


async def allocations_of_payments_many(
    *, session: AsyncSession, payment_ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, list[Any]]:
    allocation = PaymentAllocation
    return await visible_by(
        session, allocation, allocation.payment_id, payment_ids, viewer, allocation.created_at, allocation.id
    )
