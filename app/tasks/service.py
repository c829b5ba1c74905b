"""Internal tasks: made by hand or by an escalation (one per escalation key), assigned to an
account or a role, moved through their workflow by the status engine; staff's only
(docs/notifications.md, "Internal tasks")."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app import text
from app.access import policy
from app.access.policy import Viewer
from app.accounts.models import Role, UserAccount
from app.audit.service import Actor, record
from app.db import columns, read
from app.errors import NotFound, ValidationFailed
from app.status import engine
from app.status.models import EntityType
from app.status.registry import EntityAdapter, register
from app.tasks.models import InternalTask, TaskSource

TASK: Final = EntityType.INTERNAL_TASK.value
OPEN_STATUSES: Final = ("open", "in_progress")


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskIn:
    title: str
    details: str | None = None
    assignee_account_id: uuid.UUID | None = None
    assignee_role: str | None = None
    due_at: datetime | None = None
    entity_type: str | None = None
    entity_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    source: TaskSource = TaskSource.MANUAL
    dedupe_key: str | None = None


async def create(*, session: AsyncSession, task_in: TaskIn, actor: Actor) -> InternalTask | None:
    """A task in its workflow's first status; None when one with the same `dedupe_key` exists
    (an escalation made twice makes one task)."""
    title = text.line(task_in.title, field="title", max_length=200)
    if title is None:
        raise ValidationFailed("Give the task a title.", field="title")
    details = text.text(task_in.details, field="details", max_length=text.LONG_TEXT_LENGTH)
    if task_in.assignee_account_id is None and task_in.assignee_role is None:
        raise ValidationFailed("Assign the task to an account or a role.", field="assignee_role")
    staff_roles = sorted(r.value for r in (Role.ADMIN, Role.STAFF, Role.FINANCE))
    if task_in.assignee_role is not None and task_in.assignee_role not in staff_roles:
        raise ValidationFailed(f"A task goes to a staff role: {', '.join(staff_roles)}.", field="assignee_role")
    if task_in.assignee_account_id is not None:
        account = await session.get(UserAccount, task_in.assignee_account_id)
        if account is None or not set(account.roles) & set(staff_roles):
            raise NotFound("UserAccount", task_in.assignee_account_id, field="assignee_account_id")
    workflow = await engine.workflow_for(session=session, entity_type=TASK, business_entity_id=None)
    task = await session.scalar(
        insert(InternalTask)
        .values(
            title=title,
            details=details,
            entity_type=task_in.entity_type,
            entity_id=task_in.entity_id,
            order_id=task_in.order_id,
            assignee_account_id=task_in.assignee_account_id,
            assignee_role=task_in.assignee_role,
            due_at=task_in.due_at,
            status=workflow.first_step.status_name,
            source=task_in.source.value,
            dedupe_key=task_in.dedupe_key,
            created_by_account_id=actor.account_id,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(InternalTask)
    )
    if task is None:
        return None
    await engine.initialize(session=session, entity_type=TASK, entity=task, workflow=workflow, actor=actor)
    await record(
        session=session,
        actor=actor,
        action="internal_task.create",
        entity_type=TASK,
        entity_id=task.id,
        before=None,
        after={"title": task.title, "source": task.source, "assignee_role": task.assignee_role},
    )
    return task


@dataclass(frozen=True, slots=True)
class TaskFilter:
    mine_for: tuple[uuid.UUID, frozenset[str]] | None = None
    """An account and its roles: the tasks assigned to it or to one of its roles."""
    statuses: Collection[str] = ()
    source: TaskSource | None = None
    order_id: uuid.UUID | None = None


def _tasks(stmt: Any, filter_in: TaskFilter, viewer: Viewer) -> Any:
    stmt = stmt.where(policy.visible(viewer, InternalTask))
    if filter_in.mine_for is not None:
        account_id, roles = filter_in.mine_for
        stmt = stmt.where(
            or_(InternalTask.assignee_account_id == account_id, InternalTask.assignee_role.in_(sorted(roles)))
        )
    if filter_in.statuses:
        stmt = stmt.where(InternalTask.status.in_(list(filter_in.statuses)))
    if filter_in.source is not None:
        stmt = stmt.where(InternalTask.source == filter_in.source.value)
    if filter_in.order_id is not None:
        stmt = stmt.where(InternalTask.order_id == filter_in.order_id)
    return stmt


async def count(*, session: AsyncSession, filter_in: TaskFilter, viewer: Viewer) -> int:
    return int(await session.scalar(_tasks(select(func.count()).select_from(InternalTask), filter_in, viewer)) or 0)


async def search(*, session: AsyncSession, filter_in: TaskFilter, viewer: Viewer, offset: int, limit: int) -> list[Any]:
    """Tasks by due date (those without one last), then the oldest first."""
    stmt = _tasks(select(*columns(InternalTask)), filter_in, viewer)
    order = (InternalTask.due_at.asc().nulls_last(), InternalTask.created_at, InternalTask.id)
    return await read(session, stmt.order_by(*order).offset(offset).limit(limit))


def wire() -> None:
    register(EntityAdapter(entity_type=EntityType.INTERNAL_TASK, model=InternalTask, name="InternalTask",
                           business_entity_attribute=None))  # fmt: skip
