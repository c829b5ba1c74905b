"""Field operations: quotes, visits (with their installers and site surveys), installer teams,
work orders (checklist, installation record, seals) and documents (docs/operations.md)."""

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
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSTZRANGE, UUID, ExcludeConstraint, Range
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, created_at, updated_at, uuid_pk


class Quote(Base):
    """One revision of a quote. Revisions share the number and the series (the first revision's
    id); a new revision supersedes the one before it, which stays as it was sent."""

    __tablename__ = "quote"

    id: Mapped[uuid.UUID] = uuid_pk()
    business_entity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("business_entity.id", ondelete="RESTRICT")
    )
    number: Mapped[str] = mapped_column(String(30))
    revision: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    series_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("quote.id", ondelete="RESTRICT"), unique=True
    )
    account_contact_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="RESTRICT"), index=True
    )
    end_customer_contact_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="RESTRICT"), index=True
    )
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="RESTRICT"), unique=True
    )
    """The order its acceptance created."""
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        UniqueConstraint("number", "revision"),
        CheckConstraint("revision >= 1", name="revision_positive"),
    )


class QuoteChannel(Base):
    """One level of a quote's channel chain (as on an order: position 1 is nearest)."""

    __tablename__ = "quote_channel"

    quote_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("quote.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="RESTRICT"), index=True
    )

    __table_args__ = (
        UniqueConstraint("quote_id", "contact_id"),
        CheckConstraint("position >= 1", name="position_positive"),
    )


class QuoteLine(Base):
    __tablename__ = "quote_line"

    id: Mapped[uuid.UUID] = uuid_pk()
    quote_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("quote.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    article_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("article.id", ondelete="RESTRICT")
    )
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), server_default=text("0"))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    is_commissionable: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    __table_args__ = (
        UniqueConstraint("quote_id", "position"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
    )


class InstallerTeam(Base):
    __tablename__ = "installer_team"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = created_at()


class InstallerTeamMember(Base):
    __tablename__ = "installer_team_member"

    team_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("installer_team.id", ondelete="CASCADE"), primary_key=True
    )
    installer_contact_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="RESTRICT"), primary_key=True
    )


class VisitType(enum.StrEnum):
    INSPECTION = "inspection"
    INSTALLATION = "installation"
    SERVICE = "service"


class WorkOrderKind(enum.StrEnum):
    INSTALLATION = "installation"
    SERVICE = "service"


class WorkOrder(Base):
    """Installation (or service) work for an order, numbered from the brand's work order series."""

    __tablename__ = "work_order"

    id: Mapped[uuid.UUID] = uuid_pk()
    business_entity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("business_entity.id", ondelete="RESTRICT")
    )
    order_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[str] = mapped_column(String(30), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(40))
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (CheckConstraint("kind IN ('installation', 'service')", name="kind_known"),)


class Visit(Base):
    """A field appointment for an order or a quote (a site inspection before quoting)."""

    __tablename__ = "visit"

    id: Mapped[uuid.UUID] = uuid_pk()
    business_entity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("business_entity.id", ondelete="RESTRICT")
    )
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="RESTRICT"), index=True
    )
    quote_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("quote.id", ondelete="RESTRICT"), index=True
    )
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("work_order.id", ondelete="RESTRICT"), index=True
    )
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("installer_team.id", ondelete="RESTRICT")
    )
    visit_type: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    street: Mapped[str | None] = mapped_column(String(200))
    house_number: Mapped[str | None] = mapped_column(String(20))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(40))
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        CheckConstraint("(order_id IS NULL) <> (quote_id IS NULL)", name="for_order_or_quote"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("visit_type IN ('inspection', 'installation', 'service')", name="type_known"),
        Index("ix_visit_starts_at", "starts_at"),
    )


class VisitInstaller(Base):
    """An installer booked on a visit, with the visit's time range: no installer is ever booked
    twice at overlapping times while the booking holds (the exclusion constraint). A booking is
    visible with its visit's order or quote, or to the installer's own scope."""

    __tablename__ = "visit_installer"

    visit_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True
    )
    installer_contact_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="RESTRICT"), primary_key=True
    )
    # the visit's order or quote, copied (a visit keeps them): the booking's visibility is decided
    # on its own row, so that "is this installer on a visit the viewer sees" reads no other table
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="RESTRICT"), index=True
    )
    quote_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("quote.id", ondelete="RESTRICT"))
    during: Mapped[Range[datetime]] = mapped_column(TSTZRANGE)
    holds: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    """False once the visit is cancelled: the time is free again."""

    __table_args__ = (
        ExcludeConstraint(
            ("installer_contact_id", "="), ("during", "&&"), name="no_double_booking", using="gist", where="holds"
        ),
        Index("ix_visit_installer_installer", "installer_contact_id"),
    )


class MeterCabinet(enum.StrEnum):
    READY = "ready"
    NEEDS_UPGRADE = "needs_upgrade"
    NEEDS_REPLACEMENT = "needs_replacement"


class Mounting(enum.StrEnum):
    WALL = "wall"
    POLE = "pole"
    GARAGE = "garage"
    CARPORT = "carport"


class SiteSurvey(Base):
    """What was found on site, as structured fields."""

    __tablename__ = "site_survey"

    visit_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True
    )
    meter_cabinet: Mapped[str] = mapped_column(String(30))
    phases: Mapped[int] = mapped_column(SmallInteger)
    main_fuse_amps: Mapped[int] = mapped_column(SmallInteger)
    cable_route: Mapped[str | None] = mapped_column(Text)
    cable_length_m: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    mounting: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = created_at()

    __table_args__ = (
        CheckConstraint("meter_cabinet IN ('ready', 'needs_upgrade', 'needs_replacement')", name="cabinet_known"),
        CheckConstraint("phases IN (1, 3)", name="phases_known"),
        CheckConstraint("main_fuse_amps BETWEEN 6 AND 250", name="fuse_range"),
        CheckConstraint("cable_length_m >= 0 AND cable_length_m <= 500", name="cable_range"),
        CheckConstraint("mounting IN ('wall', 'pole', 'garage', 'carport')", name="mounting_known"),
    )


class WorkOrderTask(Base):
    """One item of a work order's checklist."""

    __tablename__ = "work_order_task"

    id: Mapped[uuid.UUID] = uuid_pk()
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("work_order.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(SmallInteger)
    description: Mapped[str] = mapped_column(String(300))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="SET NULL")
    )

    __table_args__ = (UniqueConstraint("work_order_id", "position"),)


class InstallationRecord(Base):
    """The charger installed, the meter reading and the test results of an installation."""

    __tablename__ = "installation_record"

    work_order_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("work_order.id", ondelete="CASCADE"), primary_key=True
    )
    charger_make: Mapped[str] = mapped_column(String(100))
    charger_model: Mapped[str] = mapped_column(String(100))
    serial_number: Mapped[str] = mapped_column(String(100))
    meter_reading_kwh: Mapped[Decimal] = mapped_column(Numeric(12, 1))
    earth_resistance_ohm: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    insulation_resistance_mohm: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    rcd_trip_time_ms: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    tests_passed: Mapped[bool] = mapped_column(Boolean)
    recorded_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = created_at()

    __table_args__ = (
        CheckConstraint(
            "meter_reading_kwh >= 0 AND earth_resistance_ohm >= 0 AND insulation_resistance_mohm >= 0 "
            "AND rcd_trip_time_ms >= 0",
            name="readings_not_negative",
        ),
    )


class SealAction(enum.StrEnum):
    REMOVED = "removed"
    PLACED = "placed"


class SealUsage(Base):
    """A seal removed from or placed on the meter cabinet; each seal number is placed once and
    removed once."""

    __tablename__ = "seal_usage"

    id: Mapped[uuid.UUID] = uuid_pk()
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("work_order.id", ondelete="RESTRICT"), index=True
    )
    seal_number: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(10))
    recorded_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = created_at()

    __table_args__ = (
        UniqueConstraint("action", "seal_number", name="uq_seal_usage_once"),
        CheckConstraint("action IN ('removed', 'placed')", name="action_known"),
    )


class DocumentCategory(enum.StrEnum):
    PHOTO = "photo"
    SIGNED_QUOTE = "signed_quote"
    CERTIFICATE = "certificate"
    DRAWING = "drawing"
    OTHER = "other"


class Document(Base):
    """An uploaded file, attached to exactly one order, quote, visit, work order or contact; its
    bytes are in the document store (app/operations/storage.py), named by `storage_key`."""

    __tablename__ = "document"

    id: Mapped[uuid.UUID] = uuid_pk()
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="RESTRICT"), index=True
    )
    quote_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("quote.id", ondelete="RESTRICT"), index=True
    )
    visit_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("visit.id", ondelete="RESTRICT"), index=True
    )
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("work_order.id", ondelete="RESTRICT"), index=True
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="RESTRICT"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(20))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(40)), server_default="{}")
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    uploaded_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (
        CheckConstraint("num_nonnulls(order_id, quote_id, visit_id, work_order_id, contact_id) = 1", name="one_parent"),
        CheckConstraint(
            "category IN ('photo', 'signed_quote', 'certificate', 'drawing', 'other')", name="category_known"
        ),
        CheckConstraint("size_bytes > 0", name="size_positive"),
    )
