"""`partner_commission`: one record per channel level of an order, its status kept by the engine."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, created_at, updated_at, uuid_pk


class PartnerCommission(Base):
    __tablename__ = "partner_commission"

    id: Mapped[uuid.UUID] = uuid_pk()
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="RESTRICT"))
    # the order's brand, so that a brand may have its own commission workflow
    business_entity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("business_entity.id", ondelete="RESTRICT")
    )
    beneficiary_contact_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="RESTRICT")
    )
    level: Mapped[int] = mapped_column(SmallInteger)
    rate: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    base_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    status: Mapped[str] = mapped_column(String(40))
    # when the order reached its commission-creating step: the commission's period
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        UniqueConstraint("order_id", "level"),
        CheckConstraint("level >= 1", name="level_positive"),
        CheckConstraint("rate > 0 AND rate <= 1", name="rate_range"),
        Index("ix_partner_commission_beneficiary", "beneficiary_contact_id", "created_at"),
        Index("ix_partner_commission_created_at", "created_at"),
    )


class CommissionTotal(Base):
    """A part of one beneficiary's commission totals in one status: how many commissions, and
    their amount. Their sum per beneficiary and status is the count and total of its commissions
    in that status. Each statement that writes commissions adds the parts it changed, in its own
    transaction (statement triggers, migration 0022); a scheduled run sums each beneficiary's
    parts back into one (`compact_totals`). The overview of all periods reads these instead of
    every commission (docs/design.md "Commission totals")."""

    __tablename__ = "commission_total"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    beneficiary_contact_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(40))
    commissions: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))

    __table_args__ = (Index("ix_commission_total_beneficiary", "beneficiary_contact_id"),)
