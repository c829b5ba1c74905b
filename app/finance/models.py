"""Invoices and credit notes, and the lines they bill: documents that never change once issued.

A credit note is an invoice row of kind `credit_note` that references the invoice it corrects;
its lines negate lines of that invoice. The database refuses every change to an issued document
except its status (migration 0011): corrections are new documents.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, created_at, pg_enum, updated_at, uuid_pk


class InvoiceKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class Invoice(Base):
    __tablename__ = "invoice"

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[InvoiceKind] = mapped_column(pg_enum(InvoiceKind, "invoice_kind"))
    number: Mapped[str] = mapped_column(String(30), unique=True)
    business_entity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("business_entity.id", ondelete="RESTRICT")
    )
    order_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="RESTRICT"), index=True
    )
    account_contact_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="RESTRICT"), index=True
    )
    credits_invoice_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("invoice.id", ondelete="RESTRICT"), index=True
    )
    # who sold and who bought, as they were when the document was issued (app/finance/service.py)
    seller: Mapped[dict[str, Any]] = mapped_column(JSONB)
    buyer: Mapped[dict[str, Any]] = mapped_column(JSONB)
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), server_default=text("'EUR'"))
    net_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    vat_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    gross_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(40))
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        CheckConstraint("(kind = 'credit_note') = (credits_invoice_id IS NOT NULL)", name="credit_note_references"),
        CheckConstraint(
            "(kind = 'invoice' AND gross_amount >= 0) OR (kind = 'credit_note' AND gross_amount <= 0)",
            name="sign_of_kind",
        ),
        CheckConstraint("net_amount + vat_amount = gross_amount", name="gross_is_net_plus_vat"),
        CheckConstraint("due_date >= issue_date", name="due_after_issue"),
        Index("ix_invoice_brand_issue_date", "business_entity_id", "issue_date"),
        Index("ix_invoice_status_due", "status", "due_date"),
    )


class InvoiceLine(Base):
    """A billed order line, copied; on a credit note, the negation of one line of its invoice.

    An order line is billed at most once at a time: its invoice lines are numbered by billing
    round, unique per order line, and a new round starts only after the previous one was
    credited."""

    __tablename__ = "invoice_line"

    id: Mapped[uuid.UUID] = uuid_pk()
    invoice_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("invoice.id", ondelete="RESTRICT"))
    # the order the document bills, so that visibility follows the order in one probe
    order_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="RESTRICT"), index=True
    )
    position: Mapped[int] = mapped_column(SmallInteger)
    line_item_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("line_item.id", ondelete="RESTRICT"), index=True
    )
    billing_round: Mapped[int | None] = mapped_column(SmallInteger)
    credits_line_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("invoice_line.id", ondelete="RESTRICT"), unique=True
    )
    article_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("article.id", ondelete="RESTRICT")
    )
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    net_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    is_commissionable: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        UniqueConstraint("invoice_id", "position"),
        CheckConstraint("(billing_round IS NULL) = (credits_line_id IS NOT NULL)", name="billed_or_credit"),
        CheckConstraint("billing_round IS NULL OR billing_round >= 1", name="billing_round_positive"),
        Index(
            "uq_invoice_line_billing_round",
            "line_item_id",
            "billing_round",
            unique=True,
            postgresql_where=text("billing_round IS NOT NULL"),
        ),
    )


class PaymentDirection(enum.StrEnum):
    INCOMING = "incoming"
    """Money received: allocated to invoices; what is not is the account's credit."""
    OUTGOING = "outgoing"
    """A refund: allocated to credit notes, or drawn from the account's credit."""


class PaymentMethod(enum.StrEnum):
    BANK_TRANSFER = "bank_transfer"
    IDEAL = "ideal"
    CARD = "card"
    CASH = "cash"
    OTHER = "other"


class BankStatement(Base):
    """An imported statement; (account, statement key) identifies it, so it is imported once."""

    __tablename__ = "bank_statement"

    id: Mapped[uuid.UUID] = uuid_pk()
    account_iban: Mapped[str] = mapped_column(String(34))
    statement_key: Mapped[str] = mapped_column(String(100))
    format: Mapped[str] = mapped_column(String(10))
    business_entity_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("business_entity.id", ondelete="RESTRICT")
    )
    opening_balance: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    closing_balance: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    entries: Mapped[int] = mapped_column(SmallInteger)
    imported_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (UniqueConstraint("account_iban", "statement_key"),)


class BankStatementEntry(Base):
    """One booking of a statement; (account, entry key) identifies it across statements."""

    __tablename__ = "bank_statement_entry"

    id: Mapped[uuid.UUID] = uuid_pk()
    statement_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("bank_statement.id", ondelete="RESTRICT"), index=True
    )
    account_iban: Mapped[str] = mapped_column(String(34))
    entry_key: Mapped[str] = mapped_column(String(100))
    booked_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    """Signed: positive received, negative paid out."""
    currency: Mapped[str] = mapped_column(String(3))
    counterparty_name: Mapped[str | None] = mapped_column(String(200))
    counterparty_iban: Mapped[str | None] = mapped_column(String(34))
    remittance: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("account_iban", "entry_key"),)


class Payment(Base):
    """Money received or paid back, by hand or from a bank statement; its allocations say what
    it paid."""

    __tablename__ = "payment"

    id: Mapped[uuid.UUID] = uuid_pk()
    business_entity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("business_entity.id", ondelete="RESTRICT")
    )
    direction: Mapped[PaymentDirection] = mapped_column(pg_enum(PaymentDirection, "payment_direction"))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), server_default=text("'EUR'"))
    paid_on: Mapped[date] = mapped_column(Date)
    method: Mapped[PaymentMethod] = mapped_column(pg_enum(PaymentMethod, "payment_method"))
    reference: Mapped[str | None] = mapped_column(Text)
    payer_name: Mapped[str | None] = mapped_column(String(200))
    payer_iban: Mapped[str | None] = mapped_column(String(34))
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="RESTRICT"), index=True
    )
    statement_entry_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("bank_statement_entry.id", ondelete="RESTRICT"), unique=True
    )
    status: Mapped[str] = mapped_column(String(40))
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payment_paid_on", "business_entity_id", "paid_on"),
        Index("ix_payment_status", "status"),
    )


class PaymentAllocation(Base):
    """Part of a payment applied to one document: an incoming payment to an invoice, a refund to
    a credit note. Append-only (migration 0012)."""

    __tablename__ = "payment_allocation"

    id: Mapped[uuid.UUID] = uuid_pk()
    payment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("payment.id", ondelete="RESTRICT"), index=True
    )
    invoice_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("invoice.id", ondelete="RESTRICT"), index=True
    )
    # the order the document bills, so that visibility follows the order in one probe
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    allocated_on: Mapped[date] = mapped_column(Date)
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)
