"""Workflows and their steps, the append-only transition trail, and the current-status cache."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, created_at, pg_enum, uuid_pk


class EntityType(enum.StrEnum):
    ORDER = "order"
    QUOTE = "quote"
    VISIT = "visit"
    LINE_ITEM = "line_item"
    WORK_ORDER = "work_order"
    INVOICE = "invoice"
    PAYMENT = "payment"
    INSTALLATION = "installation"
    FORM_SUBMISSION = "form_submission"
    CUSTOMER_FEEDBACK = "customer_feedback"
    INTERNAL_TASK = "internal_task"
    SUPPORT_TICKET = "support_ticket"
    PARTNER_COMMISSION = "partner_commission"
    CREDIT_NOTE = "credit_note"


class StepType(enum.StrEnum):
    NORMAL = "normal"
    HOLD = "hold"  # reached and left only through hold / resume
    EXIT = "exit"  # a final step off the main path (cancelled)


class Movement(enum.StrEnum):
    INITIAL = "initial"
    FORWARD = "forward"
    SKIP = "skip"
    BACKWARD = "backward"
    RESTART = "restart"
    HOLD = "hold"
    RESUME = "resume"
    EXIT = "exit"


class StatusWorkflow(Base):
    __tablename__ = "status_workflow"

    id: Mapped[uuid.UUID] = uuid_pk()
    entity_type: Mapped[str] = mapped_column(String(40))
    business_entity_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("business_entity.id", ondelete="RESTRICT")
    )
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    is_default: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (
        # one default per entity type; one active workflow per entity type and brand
        Index("uq_status_workflow_default", "entity_type", unique=True, postgresql_where=text("is_default")),
        Index(
            "uq_status_workflow_brand",
            "entity_type",
            "business_entity_id",
            unique=True,
            postgresql_where=text("is_active AND business_entity_id IS NOT NULL"),
        ),
    )


class StatusWorkflowStep(Base):
    __tablename__ = "status_workflow_step"

    id: Mapped[uuid.UUID] = uuid_pk()
    workflow_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("status_workflow.id", ondelete="CASCADE")
    )
    status_name: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(100))
    color: Mapped[str] = mapped_column(String(7))
    step_order: Mapped[int] = mapped_column(SmallInteger)
    step_type: Mapped[StepType] = mapped_column(pg_enum(StepType, "status_step_type"), server_default="normal")
    allowed_transitions: Mapped[list[str]] = mapped_column(ARRAY(String(40)), server_default=text("'{}'"))
    sla_hours: Mapped[int | None] = mapped_column(Integer)
    requires_approval: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    approval_role: Mapped[str | None] = mapped_column(String(20))
    is_milestone: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_final: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # what reaching (or being in) this step means to the domains that subscribe to it
    creates_commissions: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    locks_lines: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    requires_billing: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    auto_transition_conditions: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    notification_settings: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))

    __table_args__ = (
        UniqueConstraint("workflow_id", "status_name"),
        UniqueConstraint("workflow_id", "step_order"),
    )


class StatusTransition(Base):
    """Append-only: the database refuses updates and deletes (trigger)."""

    __tablename__ = "status_transition"

    id: Mapped[uuid.UUID] = uuid_pk()
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    workflow_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("status_workflow.id", ondelete="RESTRICT")
    )
    from_status: Mapped[str | None] = mapped_column(String(40))
    to_status: Mapped[str] = mapped_column(String(40))
    movement: Mapped[Movement] = mapped_column(pg_enum(Movement, "status_movement"))
    reason: Mapped[str | None] = mapped_column(Text)
    business_context: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    triggered_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="SET NULL")
    )
    triggered_by_system: Mapped[str | None] = mapped_column(String(50))
    sla_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_milestone: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, server_default=text("'{}'::jsonb"))
    # clock_timestamp(): transitions within one transaction keep their order
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.clock_timestamp())

    __table_args__ = (
        Index("ix_status_transition_entity", "entity_type", "entity_id", "created_at"),
        # the read path loads the history of a page's entities of every type at once, by id
        Index("ix_status_transition_entity_id", "entity_id", "created_at"),
    )


class EntityCurrentStatus(Base):
    __tablename__ = "entity_current_status"

    entity_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    workflow_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("status_workflow.id", ondelete="RESTRICT")
    )
    status: Mapped[str] = mapped_column(String(40))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sla_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_transition_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("status_transition.id", ondelete="RESTRICT")
    )
    overdue_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """The SLA monitor's stored mark (app/escalation): set once the deadline has passed, cleared
    by the next status change."""

    __table_args__ = (
        Index("ix_entity_current_status_sla", "entity_type", "sla_deadline"),
        Index(
            "ix_entity_current_status_overdue",
            "entity_type",
            "overdue_since",
            postgresql_where=text("overdue_since IS NOT NULL"),
        ),
        Index("ix_entity_current_status_status", "entity_type", "status"),
        # the read path loads the statuses of a page's entities of every type at once, by id
        Index("ix_entity_current_status_entity_id", "entity_id"),
    )
