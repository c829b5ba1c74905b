"""Orders, their channel chain and their holds.

The table is `sales_order` because ORDER is a reserved word in SQL; the entity type is `order`.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, created_at, pg_enum, updated_at, uuid_pk


class Order(Base):
    __tablename__ = "sales_order"

    id: Mapped[uuid.UUID] = uuid_pk()
    business_entity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("business_entity.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[str] = mapped_column(String(30), unique=True)
    account_contact_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="RESTRICT"), index=True
    )
    end_customer_contact_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        Index("ix_sales_order_created_at", "created_at"),
        Index("ix_sales_order_status", "business_entity_id", "status"),
    )


class OrderChannel(Base):
    """One level of an order's channel chain: position 1 is the partner nearest the order."""

    __tablename__ = "order_channel"

    order_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="RESTRICT"), index=True
    )

    __table_args__ = (
        UniqueConstraint("order_id", "contact_id"),
        CheckConstraint("position >= 1", name="position_positive"),
    )


class OrderParty(Base):
    """Every contact with a role on an order (account, end customer, channel chain), once per
    order. Written only by triggers (migration 0007), read by the visibility policy: "which
    orders involve a contact of this subtree" is one indexed semi-join instead of three tests."""

    __tablename__ = "order_party"

    order_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_order_party_contact", "contact_id", "order_id"),)


class HoldReason(enum.StrEnum):
    CUSTOMER_REQUEST = "customer_request"
    AWAITING_PARTS = "awaiting_parts"
    AWAITING_PERMIT = "awaiting_permit"
    AWAITING_PAYMENT = "awaiting_payment"
    TECHNICAL_ISSUE = "technical_issue"
    OTHER = "other"


class OrderHold(Base):
    __tablename__ = "order_hold"

    id: Mapped[uuid.UUID] = uuid_pk()
    order_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="CASCADE"), index=True
    )
    reason_category: Mapped[HoldReason] = mapped_column(pg_enum(HoldReason, "hold_reason"))
    details: Mapped[str | None] = mapped_column(Text)
    estimated_resume_date: Mapped[date | None] = mapped_column(Date)
    escalation_date: Mapped[date | None] = mapped_column(Date)
    notify_customer: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    notify_partner: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    status_before: Mapped[str] = mapped_column(String(40))
    placed_at: Mapped[datetime] = created_at()
    placed_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="SET NULL")
    )
    resumed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Its escalation date came while it was still on hold (app/escalation), once."""
    resumed_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="SET NULL")
    )

    __table_args__ = (
        Index("uq_order_hold_active", "order_id", unique=True, postgresql_where=text("resumed_at IS NULL")),
    )


class LineItem(Base):
    """An order line. Money is exact: NUMERIC, rounded half-up to the cent (app/orders/totals.py)."""

    __tablename__ = "line_item"

    id: Mapped[uuid.UUID] = uuid_pk()
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="CASCADE"))
    article_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("article.id", ondelete="RESTRICT"), index=True
    )
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), server_default=text("0"))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    is_commissionable: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("work_order.id", ondelete="RESTRICT")
    )
    """Extra work found on site: the work order it was found on."""
    # clock_timestamp(): lines added in one transaction keep the order they were added in
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.clock_timestamp())
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint("discount_percent >= 0 AND discount_percent <= 100", name="discount_range"),
        CheckConstraint("vat_rate IN (21, 9, 0)", name="vat_rate_known"),
        Index("ix_line_item_order_created", "order_id", "created_at"),
    )


class OrderReach(Base):
    """Every contact that reaches an order: each party and every organisation above a party.
    A scope (the subtree of its root) sees an order exactly when its root reaches it, so "the
    orders of a scope" is one primary-key range. Written only by triggers (migration 0009)."""

    __tablename__ = "order_reach"

    ancestor_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True
    )
    order_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_order_reach_order", "order_id"),)
