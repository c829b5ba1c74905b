"""The contact table: persons and organisations, `parent_organization_id` builds the hierarchy."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Numeric, SmallInteger, String, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, created_at, pg_enum, updated_at, uuid_pk


class ContactType(enum.StrEnum):
    PERSON = "person"
    ORGANIZATION = "organization"


ADDRESS_FIELDS = ("street", "house_number", "postal_code", "city", "country_code")
"""A postal address, as contacts and brands (the seller on an invoice) keep it."""


class PostalAddress:
    """The address columns (`ADDRESS_FIELDS`) of a table."""

    street: Mapped[str | None] = mapped_column(String(200))
    house_number: Mapped[str | None] = mapped_column(String(20))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    country_code: Mapped[str | None] = mapped_column(String(2))


class Contact(PostalAddress, Base):
    __tablename__ = "contact"

    id: Mapped[uuid.UUID] = uuid_pk()
    contact_type: Mapped[ContactType] = mapped_column(pg_enum(ContactType, "contact_type"))
    contact_subtype: Mapped[str | None] = mapped_column(String(50))
    display_name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    # its postal address (PostalAddress): where a person lives and the charger goes, where an
    # organisation is billed
    vat_number: Mapped[str | None] = mapped_column(String(20))
    # days an invoice to this account may stay open; unset: the standard term (app/finance)
    payment_terms_days: Mapped[int | None] = mapped_column(SmallInteger)
    parent_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="RESTRICT"), index=True
    )
    # A fraction (0.0500 = 5 %) of the order's commissionable net amount.
    commission_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    business_entity_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("business_entity.id", ondelete="RESTRICT"), index=True
    )
    # what it is told in (`nl`, `en`) and the channels it is never told through (app/notifications)
    language: Mapped[str] = mapped_column(String(2), server_default=text("'nl'"))
    opted_out_channels: Mapped[list[str]] = mapped_column(ARRAY(String(20)), server_default=text("'{}'"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        CheckConstraint("parent_organization_id <> id", name="not_own_parent"),
        CheckConstraint("language IN ('nl', 'en')", name="language_known"),
        CheckConstraint(
            "commission_rate IS NULL OR (commission_rate >= 0 AND commission_rate <= 1)",
            name="commission_rate_range",
        ),
        CheckConstraint(
            "contact_type = 'organization' OR commission_rate IS NULL",
            name="commission_rate_organization_only",
        ),
        CheckConstraint(
            "payment_terms_days IS NULL OR payment_terms_days BETWEEN 0 AND 365", name="payment_terms_range"
        ),
        # Text search (ILIKE '%…%') over name and e-mail stays indexed.
        Index(
            "ix_contact_display_name_trgm",
            "display_name",
            postgresql_using="gin",
            postgresql_ops={"display_name": "gin_trgm_ops"},
        ),
        Index(
            "ix_contact_email_trgm",
            "email",
            postgresql_using="gin",
            postgresql_ops={"email": "gin_trgm_ops"},
        ),
        Index("ix_contact_type_subtype", "contact_type", "contact_subtype"),
    )


class ContactClosure(Base):
    """Every (ancestor, descendant) pair of the hierarchy with the levels between them, a contact
    being its own ancestor at depth 0. Written only by triggers (migration 0005), read by the
    visibility policy: "is X in the subtree of R" is one primary-key lookup."""

    __tablename__ = "contact_closure"

    ancestor_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True
    )
    descendant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True
    )
    depth: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_contact_closure_descendant", "descendant_id", "depth"),)
