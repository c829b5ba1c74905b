"""Articles per business entity."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Numeric, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, created_at, updated_at, uuid_pk

VAT_RATES = (Decimal("21"), Decimal("9"), Decimal("0"))
VAT_CHECK = "vat_rate IN (21, 9, 0)"


class Article(Base):
    __tablename__ = "article"

    id: Mapped[uuid.UUID] = uuid_pk()
    business_entity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("business_entity.id", ondelete="RESTRICT")
    )
    sku: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20), server_default="piece")
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        UniqueConstraint("business_entity_id", "sku"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint(VAT_CHECK, name="vat_rate_known"),
    )
