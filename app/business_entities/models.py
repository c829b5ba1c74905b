"""The brands: reference data seeded by the first migration."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.contacts.models import PostalAddress
from app.db import Base, created_at, uuid_pk


class BusinessEntity(PostalAddress, Base):
    __tablename__ = "business_entity"

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # what an invoice says of its seller, with its address (seeded by migration 0011)
    legal_name: Mapped[str | None] = mapped_column(String(200))
    vat_number: Mapped[str | None] = mapped_column(String(20))
    chamber_of_commerce_number: Mapped[str | None] = mapped_column(String(20))
    iban: Mapped[str | None] = mapped_column(String(34))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = created_at()
