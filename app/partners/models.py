"""Partner integration: each partner organisation's configuration and product codes, the orders
it sent (its references), the webhook deliveries of the events it subscribes to with every
attempt, its API calls, and the counters of its rate limit (docs/integration.md)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, created_at, pg_enum, updated_at, uuid_pk


class PartnerIntegration(Base):
    __tablename__ = "partner_integration"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="RESTRICT"), unique=True
    )
    # the brand its orders are for
    business_entity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("business_entity.id", ondelete="RESTRICT")
    )
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    test_mode: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # our status name -> theirs; a status without an entry is sent under our name
    status_mapping: Mapped[dict[str, str]] = mapped_column(JSONB, server_default="{}")
    events: Mapped[list[str]] = mapped_column(ARRAY(String(60)), server_default="{}")
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    # The key webhooks are signed with: the API shows it once, when it is made.
    signing_secret: Mapped[str] = mapped_column(String(100))
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, server_default="120")
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (CheckConstraint("rate_limit_per_minute > 0", name="rate_limit_positive"),)


class PartnerProduct(Base):
    """A partner's product code and the article it orders."""

    __tablename__ = "partner_product"

    id: Mapped[uuid.UUID] = uuid_pk()
    integration_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("partner_integration.id", ondelete="CASCADE")
    )
    partner_code: Mapped[str] = mapped_column(String(64))
    article_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("article.id", ondelete="RESTRICT"))

    __table_args__ = (UniqueConstraint("integration_id", "partner_code"),)


class PartnerOrder(Base):
    """An order a partner sent, under its own references."""

    __tablename__ = "partner_order"

    order_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="RESTRICT"), primary_key=True
    )
    integration_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("partner_integration.id", ondelete="RESTRICT")
    )
    partner_reference: Mapped[str] = mapped_column(String(100))
    po_number: Mapped[str | None] = mapped_column(String(100))
    dealer_code: Mapped[str | None] = mapped_column(String(100))
    # what the intake was asked, canonical: a replay with another payload is a conflict
    request_hash: Mapped[str] = mapped_column(String(64))
    last_known_status: Mapped[str | None] = mapped_column(String(100))
    last_sync_error: Mapped[str | None] = mapped_column(Text)
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (UniqueConstraint("integration_id", "partner_reference"),)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    """Waiting for its next attempt (the first, or a retry)."""
    DELIVERING = "delivering"
    """An attempt is under way (until `lease_until`)."""
    DELIVERED = "delivered"
    DEAD = "dead"
    """Every attempt failed: dead-lettered until staff redeliver it."""


class WebhookDelivery(Base):
    """One event for one partner: its body is fixed when the event is fanned out, so every
    attempt (and a redelivery) sends the same event id and content."""

    __tablename__ = "webhook_delivery"

    id: Mapped[uuid.UUID] = uuid_pk()
    integration_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("partner_integration.id", ondelete="RESTRICT")
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    outbox_event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("outbox_event.id", ondelete="RESTRICT"))
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    event_type: Mapped[str] = mapped_column(String(60))
    order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[DeliveryStatus] = mapped_column(pg_enum(DeliveryStatus, "webhook_delivery_status"))
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    # the attempt after which a failure dead-letters it (a redelivery grants a fresh budget)
    attempt_budget: Mapped[int] = mapped_column(SmallInteger)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        UniqueConstraint("integration_id", "outbox_event_id"),
        Index("ix_webhook_delivery_integration_created", "integration_id", "created_at"),
    )


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("webhook_delivery.id", ondelete="CASCADE")
    )
    attempt: Mapped[int] = mapped_column(SmallInteger)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    error: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(String(500))
    worker: Mapped[str | None] = mapped_column(String(100))
    """The worker that made it (`host:pid`)."""

    __table_args__ = (UniqueConstraint("delivery_id", "attempt"),)


class PartnerApiCall(Base):
    """One request a partner's token made: what it asked, how it ended, how long it took."""

    __tablename__ = "partner_api_call"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    account_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    request_id: Mapped[str | None] = mapped_column(String(64))
    operation: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(60))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    duration_ms: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = created_at()

    __table_args__ = (Index("ix_partner_api_call_organization_at", "organization_id", "at"),)


class PartnerRateWindow(Base):
    """Calls of a partner organisation in one minute, counted across every API process."""

    __tablename__ = "partner_rate_window"

    organization_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer)
