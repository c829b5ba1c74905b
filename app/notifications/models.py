"""Notification templates (every saved version kept) and the communication log: every message
the back office sends or decided not to send, and why (docs/notifications.md)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, created_at, pg_enum, uuid_pk


class CommunicationStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    """Every attempt failed (the server was away or refused for a while): visible, never dropped."""
    BOUNCED = "bounced"
    """The server refused the recipient for good: not tried again."""
    SUPPRESSED = "suppressed"
    """Decided not to send (opted out, no address, no template): `reason` says which."""


class Audience(enum.StrEnum):
    END_CUSTOMER = "end_customer"
    ACCOUNT = "account"
    CHANNEL = "channel"
    STAFF = "staff"


class NotificationTemplate(Base):
    __tablename__ = "notification_template"

    id: Mapped[uuid.UUID] = uuid_pk()
    business_entity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("business_entity.id", ondelete="RESTRICT")
    )
    event: Mapped[str] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(2))
    channel: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (UniqueConstraint("business_entity_id", "event", "language", "channel", "version"),)


class Communication(Base):
    __tablename__ = "communication"

    id: Mapped[uuid.UUID] = uuid_pk()
    # one event tells one address through one channel once
    dedupe_key: Mapped[str] = mapped_column(String(400), unique=True)
    outbox_event_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("outbox_event.id", ondelete="RESTRICT"))
    event: Mapped[str] = mapped_column(String(60))
    business_entity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("business_entity.id", ondelete="RESTRICT")
    )
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="RESTRICT"), index=True
    )
    audience: Mapped[str] = mapped_column(String(20))
    recipient_contact_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="RESTRICT"), index=True
    )
    recipient_address: Mapped[str | None] = mapped_column(String(254))
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2))
    template_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("notification_template.id", ondelete="RESTRICT")
    )
    template_version: Mapped[int | None] = mapped_column(Integer)
    subject: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[CommunicationStatus] = mapped_column(pg_enum(CommunicationStatus, "communication_status"))
    reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = created_at()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
