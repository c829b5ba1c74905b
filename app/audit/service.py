"""Writing the audit log, inside the transaction of the change it records."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditLog


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: an account (with its roles) or a named system process."""

    account_id: uuid.UUID | None
    roles: frozenset[str] = frozenset()
    request_id: str | None = None
    system: str | None = None

    def cascaded(self, system: str) -> Actor:
        """The same account, marked as the named process a change of its set off (a cascade)."""
        return dataclasses.replace(self, system=system)


SYSTEM = Actor(account_id=None, system="system")


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def snapshot(model: Any) -> dict[str, Any]:
    """The column values of a model instance, as JSON."""
    return {attr.key: _plain(getattr(model, attr.key)) for attr in inspect(model).mapper.column_attrs}


async def record(
    *,
    session: AsyncSession,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        AuditLog(
            account_id=actor.account_id,
            system=actor.system,
            request_id=actor.request_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=_plain(before),
            after=_plain(after),
        )
    )
