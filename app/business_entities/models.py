"""The brands: reference data seeded by the first migration."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, created_at, uuid_pk


class BusinessEntity(Base):
    __tablename__ = "business_entity"

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at()
