"""`internalTasks` (staff; `mine` for the viewer's own and its roles'), `slaBreaches` and
`scheduledJobs` (staff)."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.escalation import service as escalation
from app.jobs import schedules
from app.status.models import EntityType
from app.tasks import service
from app.tasks.service import TaskFilter
from graphql_schema.node import argument_id, global_id
from graphql_schema.pagination import After, Before, Connection, First, Last, PageArgs, filtered_connection
from graphql_schema.permissions import IsStaff
from graphql_schema.status.types import graphql_type_of
from graphql_schema.tasks.types import InternalTask, ScheduledJob, ScheduleRun, SlaBreach, TaskSourceEnum


@strawberry.input
class InternalTaskFilterInput:
    mine: bool = strawberry.field(default=False, description="Assigned to the viewer or to one of its roles.")
    open: bool | None = strawberry.field(default=None, description="true: open or in progress; false: closed.")
    source: TaskSourceEnum | None = None  # type: ignore[valid-type]
    order_id: relay.GlobalID | None = None


@strawberry.type
class TaskQueries:
    @strawberry.field(permission_classes=[IsStaff], description="Internal tasks, by due date.")
    async def internal_tasks(
        self,
        info: Info,
        filter: InternalTaskFilterInput | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[InternalTask]:
        filter_in = filter or InternalTaskFilterInput()
        ctx = info.context
        order_id = argument_id(filter_in.order_id, expected="Order", field="filter.orderId")
        statuses: tuple[str, ...] = ()
        if filter_in.open is not None:
            statuses = service.OPEN_STATUSES if filter_in.open else ("done", "cancelled")
        task_filter = TaskFilter(
            mine_for=(ctx.account_id, frozenset(ctx.roles)) if filter_in.mine and ctx.account_id else None,
            statuses=statuses,
            source=filter_in.source,
            order_id=order_id,
        )
        return await filtered_connection(
            info,
            PageArgs(first, after, last, before),
            task_filter,
            service.count,
            service.search,
            InternalTask.from_row,
        )

    @strawberry.field(
        permission_classes=[IsStaff],
        description="What the SLA monitor marked overdue and is still in that status, the longest overdue first.",
    )
    async def sla_breaches(self, info: Info, entity_type: str | None = None) -> list[SlaBreach]:
        async with info.context.db() as session:
            rows = await escalation.breaches(session=session, entity_type=entity_type, viewer=info.context.viewer)
        return [
            SlaBreach(
                entity_type=row.entity_type,
                entity_id=strawberry.ID(global_id(graphql_type_of(EntityType(row.entity_type)), row.entity_id)),
                status=row.status,
                sla_deadline=row.sla_deadline,
                overdue_since=row.overdue_since,
                since=row.since,
            )
            for row in rows
        ]

    @strawberry.field(permission_classes=[IsStaff], description="The scheduled jobs, each with its last run.")
    async def scheduled_jobs(self, info: Info) -> list[ScheduledJob]:
        async with info.context.db() as session:
            last = await schedules.last_runs(session)
        now = datetime.now(UTC)
        return [
            ScheduledJob(
                name=s.name,
                cron=s.cron,
                description=s.description,
                next_run_at=s.next_at(now),
                last_run=ScheduleRun.from_row(last[s.name]) if s.name in last else None,
            )
            for s in schedules.registered()
        ]
