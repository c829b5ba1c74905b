"""User accounts and API tokens (stored only as a SHA-256 hash)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, created_at, updated_at, uuid_pk


class Role(enum.StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    FINANCE = "finance"
    PARTNER = "partner"
    CUSTOMER = "customer"


STAFF_ROLES = frozenset({Role.ADMIN, Role.STAFF, Role.FINANCE})
_ROLE_LIST = ", ".join(f"'{r.value}'" for r in Role)


class UserAccount(Base):
    __tablename__ = "user_account"

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contact.id", ondelete="RESTRICT"), index=True
    )
    roles: Mapped[list[str]] = mapped_column(ARRAY(Text))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        CheckConstraint(f"roles <@ ARRAY[{_ROLE_LIST}]::text[]", name="known_roles"),
        CheckConstraint("cardinality(roles) > 0", name="has_role"),
        # Partner and customer viewers are scoped by their contact: they must have one.
        CheckConstraint(
            "contact_id IS NOT NULL OR NOT (roles && ARRAY['partner', 'customer']::text[])",
            name="scoped_roles_have_contact",
        ),
    )


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_account_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (Index("ix_api_token_active", "user_account_id", postgresql_where=text("revoked_at IS NULL")),)
