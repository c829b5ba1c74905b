"""`changeStatus`: one mutation for every entity type."""

from __future__ import annotations

from typing import Annotated, Any, cast

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from app import text
from app.errors import ValidationFailed
from app.status import engine
from app.status.models import EntityType
from app.status.registry import adapter_for
from graphql_schema.errors import NotFoundError, ValidationError, mutate
from graphql_schema.finance.errors import OrderNotBilled
from graphql_schema.inputs import text_field
from graphql_schema.node import decode_id, resolve_nodes
from graphql_schema.operations.errors import WorkOrderIncomplete
from graphql_schema.permissions import CanChangeStatus
from graphql_schema.status.errors import (
    ApprovalRequired,
    FinalStatus,
    InvalidStatusTransition,
    NoWorkflowError,
    StatusConflict,
)
from graphql_schema.status.types import EntityTypeEnum, StatusTransition, graphql_type_of


@strawberry.input
class ChangeStatusInput:
    entity_type: EntityTypeEnum  # type: ignore[valid-type]
    entity_id: relay.GlobalID
    to_status: str
    reason: str | None = text_field(text.REASON_LENGTH, default=None)
    business_context: JSON | None = strawberry.field(
        default=None, description="A JSON object kept with the transition."
    )
    expected_status: str | None = strawberry.field(
        default=None, description="Refuse with StatusConflict unless the status is still this one."
    )


@strawberry.type
class ChangeStatusSuccess:
    transition: StatusTransition
    entity: relay.Node


ChangeStatusResult = Annotated[
    ChangeStatusSuccess
    | InvalidStatusTransition
    | ApprovalRequired
    | StatusConflict
    | FinalStatus
    | OrderNotBilled
    | WorkOrderIncomplete
    | NotFoundError
    | ValidationError
    | NoWorkflowError,
    strawberry.union("ChangeStatusResult"),
]


@strawberry.type
class StatusMutations:
    @strawberry.mutation(
        description=(
            "Move an order, quote, visit, work order or other entity to another status of its workflow, through the "
            "status engine: the step must be allowed from the current status, `expectedStatus` (when given) must "
            "still hold, and the step's required role and conditions apply."
        ),
        permission_classes=[CanChangeStatus],
    )
    async def change_status(self, info: Info, input: ChangeStatusInput) -> ChangeStatusResult:
        entity_type = EntityType(input.entity_type)

        async def change(session: AsyncSession) -> Any:
            adapter_for(entity_type.value)  # ValidationFailed for a type without a status
            entity_id = decode_id(input.entity_id, expected=graphql_type_of(entity_type), field="entity_id")
            if not isinstance(input.business_context, dict | None):
                raise ValidationFailed("The business context is a JSON object.", field="business_context")
            transition = await engine.change_status(
                session=session,
                entity_type=entity_type.value,
                entity_id=entity_id,
                to_status=input.to_status,
                actor=info.context.actor,
                reason=input.reason,
                business_context=input.business_context,
                expected_status=input.expected_status,
            )
            return transition

        async def answer(transition: Any) -> ChangeStatusSuccess:
            [entity] = await resolve_nodes(info, [input.entity_id])
            return ChangeStatusSuccess(transition=StatusTransition.from_model(transition), entity=entity)

        return cast(ChangeStatusResult, await mutate(info, change, answer))
