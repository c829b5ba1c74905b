"""Number series: one row per business entity × document type × year."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, SmallInteger, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, created_at, updated_at, uuid_pk


class NumberSequence(Base):
    __tablename__ = "number_sequence"

    id: Mapped[uuid.UUID] = uuid_pk()
    business_entity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("business_entity.id", ondelete="RESTRICT")
    )
    document_type: Mapped[str] = mapped_column(String(30))
    year: Mapped[int] = mapped_column(SmallInteger)
    prefix: Mapped[str] = mapped_column(String(20))
    padding: Mapped[int] = mapped_column(SmallInteger, server_default=text("5"))
    last_value: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (UniqueConstraint("business_entity_id", "document_type", "year"),)
