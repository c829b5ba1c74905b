"""Internal tasks, the SLA monitor's breaches, and the scheduled jobs with their last runs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.status.models import EntityType
from app.tasks.models import TaskSource
from graphql_schema.execution import context_only
from graphql_schema.node import register_node
from graphql_schema.rows import from_row
from graphql_schema.status.types import WithStatus
from graphql_schema.tasks.loaders import TaskByIdLoader

if TYPE_CHECKING:
    from graphql_schema.orders.types import Order

TaskSourceEnum = strawberry.enum(
    TaskSource, name="TaskSource", description="Made by hand, by the SLA monitor, or by a hold's escalation."
)


@strawberry.type(description="Work for staff, assigned to an account or a role; its status goes through the engine.")
class InternalTask(relay.Node, WithStatus):
    entity_type = EntityType.INTERNAL_TASK

    id: relay.NodeID[str]
    title: str
    details: str | None
    assignee_role: str | None
    due_at: datetime | None
    source: TaskSourceEnum  # type: ignore[valid-type]
    about_entity_type: str | None = strawberry.field(description="The kind of entity it is about (order, …).")
    created_at: datetime

    order_uuid: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(
            cls,
            row,
            id=str(row.id),
            uuid=row.id,
            source=TaskSource(row.source),
            about_entity_type=row.entity_type,
            order_uuid=row.order_id,
        )

    @strawberry.field(description="The order it is about, if any.")
    @context_only
    async def order(self, info: Info) -> Annotated[Order, strawberry.lazy("graphql_schema.orders.types")] | None:
        from graphql_schema.orders.types import load_order

        return await load_order(info, self.order_uuid)


async def load_task(info: Info, task_id: uuid.UUID) -> InternalTask | None:
    row = await info.context.loaders.get(TaskByIdLoader).load(task_id)
    return InternalTask.from_row(row) if row is not None else None


async def _load_nodes(info: Info, ids: Sequence[uuid.UUID]) -> list[InternalTask | None]:
    rows = await info.context.loaders.get(TaskByIdLoader).load_many(ids)
    return [InternalTask.from_row(r) if r is not None else None for r in rows]


register_node("InternalTask", _load_nodes)


@strawberry.type(description="An entity whose status passed its SLA deadline, as the SLA monitor marked it.")
class SlaBreach:
    entity_type: str
    entity_id: strawberry.ID = strawberry.field(description="The entity's global id.")
    status: str
    sla_deadline: datetime
    overdue_since: datetime
    since: datetime = strawberry.field(description="When it entered the status.")


@strawberry.type(description="One run of a scheduled job.")
class ScheduleRun:
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    outcome: str | None = strawberry.field(description="ok or failed; null while it runs or when its worker died.")
    detail: str | None = strawberry.field(description="What it did, or why it failed.")
    worker: str | None

    @classmethod
    def from_row(cls, row: Any) -> Self:
        duration = (
            round((row.finished_at - row.started_at).total_seconds() * 1000) if row.finished_at is not None else None
        )
        return from_row(cls, row, duration_ms=duration)


@strawberry.type(description="A job the workers run on a schedule (one worker per tick).")
class ScheduledJob:
    name: str
    cron: str
    description: str
    next_run_at: datetime
    last_run: ScheduleRun | None
