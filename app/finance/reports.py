"""Finance reports: outstanding invoices by age, and the monthly financial summary of a brand
(docs/finance.md, "Reports"). Both read the documents as they are; nothing is stored."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.access import policy
from app.access.policy import Viewer
from app.commissions.models import PartnerCommission
from app.db import columns, read
from app.finance.models import Invoice, InvoiceKind, InvoiceLine, Payment, PaymentAllocation, PaymentDirection
from app.finance.service import CREDITED, PAID, owed_expression, today
from app.numbering.service import BUSINESS_TIMEZONE
from app.orders.service import totals
from app.status.models import EntityType, StatusTransition

ZERO: Final = Decimal("0.00")
BUCKETS: Final = ("not_due", "days_1_30", "days_31_60", "days_61_90", "over_90")


def bucket_of(due: date, as_of: date) -> str:
    late = (as_of - due).days
    if late <= 0:
        return "not_due"
    if late <= 30:
        return "days_1_30"
    if late <= 60:
        return "days_31_60"
    if late <= 90:
        return "days_61_90"
    return "over_90"


@dataclass
class Ageing:
    buckets: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BUCKETS, ZERO))
    invoices: int = 0

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    def add(self, bucket: str, amount: Decimal) -> None:
        self.buckets[bucket] += amount
        self.invoices += 1


@dataclass
class Outstanding:
    as_of: date
    overall: Ageing
    per_brand: dict[uuid.UUID, Ageing]
    per_account: dict[uuid.UUID, Ageing]


async def outstanding(
    *, session: AsyncSession, viewer: Viewer, business_entity_id: uuid.UUID | None = None, as_of: date | None = None
) -> Outstanding:
    """The open amounts of the invoices the viewer sees that are neither paid nor credited, by how
    long they are past due, overall, per brand and per account (largest total first)."""
    as_of = as_of or today()
    open_amount, _ = owed_expression(Invoice)
    stmt = select(Invoice.business_entity_id, Invoice.account_contact_id, Invoice.due_date, open_amount.label("open"))
    stmt = stmt.where(
        policy.visible(viewer, Invoice), Invoice.kind == InvoiceKind.INVOICE, Invoice.status.not_in((PAID, CREDITED))
    )
    if business_entity_id is not None:
        stmt = stmt.where(Invoice.business_entity_id == business_entity_id)
    report = Outstanding(as_of=as_of, overall=Ageing(), per_brand=defaultdict(Ageing), per_account=defaultdict(Ageing))
    for row in await read(session, stmt):
        amount = Decimal(row.open)
        if amount <= 0:
            continue
        bucket = bucket_of(row.due_date, as_of)
        for ageing in (
            report.overall,
            report.per_brand[row.business_entity_id],
            report.per_account[row.account_contact_id],
        ):
            ageing.add(bucket, amount)
    report.per_account = dict(sorted(report.per_account.items(), key=lambda item: (-item[1].total, str(item[0]))))
    return report


# --- the monthly summary -------------------------------------------------------------------------


@dataclass
class VatLine:
    rate: Decimal
    base: Decimal
    amount: Decimal


@dataclass
class Summary:
    business_entity_id: uuid.UUID
    month: date
    invoiced_net: Decimal
    invoiced_vat: list[VatLine]
    invoiced_gross: Decimal
    credited_net: Decimal
    credited_vat: list[VatLine]
    credited_gross: Decimal
    received: Decimal
    refunded: Decimal
    outstanding_at_month_end: Decimal
    commissions_accrued: Decimal
    commissions_paid: Decimal


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BUSINESS_TIMEZONE)


async def _vat(session: AsyncSession, kind: InvoiceKind, brand: uuid.UUID, first: date, last: date) -> list[VatLine]:
    """VAT per rate of the documents issued in the period, each document computed as it was
    issued (its own rounding per rate), then added up per rate."""
    rows = await read(
        session,
        select(*columns(InvoiceLine))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.kind == kind, Invoice.business_entity_id == brand, Invoice.issue_date.between(first, last))
        .order_by(InvoiceLine.invoice_id),
    )
    per_document: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for line in rows:
        per_document[line.invoice_id].append(line)
    per_rate: dict[Decimal, VatLine] = {}
    for lines in per_document.values():
        for vat in totals.compute(lines).vat:
            found = per_rate.setdefault(vat.rate, VatLine(vat.rate, ZERO, ZERO))
            found.base += vat.base
            found.amount += vat.amount
    return sorted(per_rate.values(), key=lambda v: v.rate, reverse=True)


async def _sum(session: AsyncSession, expression: Any, *conditions: Any) -> Decimal:
    value = await session.scalar(select(func.coalesce(func.sum(expression), 0)).where(*conditions))
    return Decimal(value or 0).quantize(Decimal("0.01"))


async def financial_summary(*, session: AsyncSession, business_entity_id: uuid.UUID, month: date) -> Summary:
    """A brand's month: what was invoiced and credited (net, VAT per rate, gross, by issue date),
    received and refunded (by payment date), what was still owed at the month's end (invoices
    issued by then, less credit notes issued and allocations made by then, plus refunds made by
    then), and the commissions accrued (created, not cancelled) and paid in the month."""
    first, last = month_bounds(month)
    brand = Invoice.business_entity_id == business_entity_id
    in_month = Invoice.issue_date.between(first, last)
    invoice, note = Invoice.kind == InvoiceKind.INVOICE, Invoice.kind == InvoiceKind.CREDIT_NOTE
    payments = and_(Payment.business_entity_id == business_entity_id, Payment.paid_on.between(first, last))
    owed_by_end = await _outstanding_at(session, business_entity_id, last)
    commission = PartnerCommission.business_entity_id == business_entity_id
    earned = PartnerCommission.created_at.between(_start(first), _start(last + timedelta(days=1)))
    paid_in_month = select(StatusTransition.entity_id).where(
        StatusTransition.entity_type == EntityType.PARTNER_COMMISSION.value,
        StatusTransition.to_status == "paid",
        StatusTransition.created_at >= _start(first),
        StatusTransition.created_at < _start(last + timedelta(days=1)),
    )
    return Summary(
        business_entity_id=business_entity_id,
        month=first,
        invoiced_net=await _sum(session, Invoice.net_amount, brand, in_month, invoice),
        invoiced_vat=await _vat(session, InvoiceKind.INVOICE, business_entity_id, first, last),
        invoiced_gross=await _sum(session, Invoice.gross_amount, brand, in_month, invoice),
        credited_net=await _sum(session, Invoice.net_amount, brand, in_month, note),
        credited_vat=await _vat(session, InvoiceKind.CREDIT_NOTE, business_entity_id, first, last),
        credited_gross=await _sum(session, Invoice.gross_amount, brand, in_month, note),
        received=await _sum(session, Payment.amount, payments, Payment.direction == PaymentDirection.INCOMING),
        refunded=await _sum(session, Payment.amount, payments, Payment.direction == PaymentDirection.OUTGOING),
        outstanding_at_month_end=owed_by_end,
        commissions_accrued=await _sum(
            session, PartnerCommission.amount, commission, earned, PartnerCommission.status != "cancelled"
        ),
        commissions_paid=await _sum(
            session, PartnerCommission.amount, commission, PartnerCommission.id.in_(paid_in_month)
        ),
    )


async def _outstanding_at(session: AsyncSession, business_entity_id: uuid.UUID, last: date) -> Decimal:
    """What the brand's invoices issued by `last` still asked at the end of that day (never less
    than nothing per invoice: money owed back is not outstanding)."""
    issued = and_(Invoice.business_entity_id == business_entity_id, Invoice.issue_date <= last)
    invoices = await read(
        session, select(Invoice.id, Invoice.gross_amount).where(issued, Invoice.kind == InvoiceKind.INVOICE)
    )
    if not invoices:
        return ZERO
    ids = [i.id for i in invoices]
    credits = dict(
        (await session.execute(
            select(Invoice.credits_invoice_id, func.sum(Invoice.gross_amount))
            .where(Invoice.credits_invoice_id.in_(ids), Invoice.issue_date <= last)
            .group_by(Invoice.credits_invoice_id)
        )).all()
    )  # fmt: skip
    paid = dict(
        (await session.execute(
            select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount))
            .where(PaymentAllocation.invoice_id.in_(ids), PaymentAllocation.allocated_on <= last)
            .group_by(PaymentAllocation.invoice_id)
        )).all()
    )  # fmt: skip
    noted = aliased(Invoice)
    refunds = dict(
        (await session.execute(
            select(noted.credits_invoice_id, func.sum(PaymentAllocation.amount))
            .join(noted, noted.id == PaymentAllocation.invoice_id)
            .where(noted.credits_invoice_id.in_(ids), PaymentAllocation.allocated_on <= last)
            .group_by(noted.credits_invoice_id)
        )).all()
    )  # fmt: skip
    total = ZERO
    for row in invoices:
        owed = row.gross_amount + credits.get(row.id, ZERO) - paid.get(row.id, ZERO) + refunds.get(row.id, ZERO)
        total += max(owed, ZERO)
    return total
