"""Internal tasks: escalations of overdue work and tasks made by hand, with their status through
the engine (workflow of migration 0016)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, created_at, uuid_pk


class TaskSource(enum.StrEnum):
    MANUAL = "manual"
    SLA_BREACH = "sla_breach"
    HOLD_ESCALATION = "hold_escalation"


class InternalTask(Base):
    __tablename__ = "internal_task"

    id: Mapped[uuid.UUID] = uuid_pk()
    title: Mapped[str] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)
    # what it is about: an entity with a status (and its order, when it is one or belongs to one)
    entity_type: Mapped[str | None] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sales_order.id", ondelete="RESTRICT")
    )
    assignee_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="SET NULL")
    )
    assignee_role: Mapped[str | None] = mapped_column(String(20))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(30))
    # one task per escalation: the monitor run again finds it and makes no second one
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (
        Index("ix_internal_task_assignee", "assignee_account_id", "assignee_role", "status"),
        CheckConstraint("assignee_account_id IS NOT NULL OR assignee_role IS NOT NULL", name="assigned"),
        CheckConstraint("source IN ('manual', 'sla_breach', 'hold_escalation')", name="source_known"),
    )
