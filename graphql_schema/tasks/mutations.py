"""`createInternalTask` (staff). A task moves (in progress, done, cancelled) through `changeStatus`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.types import Info

from app import text
from app.tasks import service
from graphql_schema.errors import NotFoundError, ValidationError, mutate
from graphql_schema.inputs import line_field, text_field
from graphql_schema.node import decode_id
from graphql_schema.permissions import IsStaff
from graphql_schema.tasks.types import InternalTask, load_task


@strawberry.input(description="A task for an account or a role (admin, staff, finance).")
class CreateInternalTaskInput:
    title: str = line_field(200)
    details: str | None = text_field(text.LONG_TEXT_LENGTH, default=None)
    assignee_account_id: relay.GlobalID | None = strawberry.field(default=None, description="An account's id.")
    assignee_role: str | None = line_field(20, "admin, staff or finance.", default=None)
    due_at: datetime | None = None
    order_id: relay.GlobalID | None = strawberry.field(default=None, description="The order it is about.")


@strawberry.type
class InternalTaskSuccess:
    task: InternalTask


CreateInternalTaskResult = Annotated[
    InternalTaskSuccess | ValidationError | NotFoundError, strawberry.union("CreateInternalTaskResult")
]


@strawberry.type
class TaskMutations:
    @strawberry.mutation(permission_classes=[IsStaff], description="Make a task; close it with changeStatus.")
    async def create_internal_task(self, info: Info, input: CreateInternalTaskInput) -> CreateInternalTaskResult:
        async def change(session: AsyncSession) -> Any:
            order_id = decode_id(input.order_id, expected="Order", field="order_id") if input.order_id else None
            task = await service.create(
                session=session,
                task_in=service.TaskIn(
                    title=input.title,
                    details=input.details,
                    assignee_account_id=decode_id(
                        input.assignee_account_id, expected="UserAccount", field="assignee_account_id"
                    )
                    if input.assignee_account_id
                    else None,
                    assignee_role=input.assignee_role,
                    due_at=input.due_at,
                    entity_type="order" if order_id else None,
                    entity_id=order_id,
                    order_id=order_id,
                ),
                actor=info.context.actor,
            )
            assert task is not None, "a task made by hand has no escalation key"
            return task.id

        async def answer(task_id: uuid.UUID) -> Any:
            task = await load_task(info, task_id)
            assert task is not None, "staff see every task"
            return InternalTaskSuccess(task=task)

        return await mutate(info, change, answer)
