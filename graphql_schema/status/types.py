"""Types of the status engine: workflows and steps, current status, transitions."""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from app.status.engine import Workflow as WorkflowData
from app.status.engine import allowed_targets
from app.status.models import EntityCurrentStatus, EntityType, Movement, StatusWorkflowStep, StepType
from app.status.models import StatusTransition as TransitionModel
from graphql_schema.business_entities.types import BusinessEntity, load_business_entity
from graphql_schema.execution import context_only
from graphql_schema.loaders import now_or_later
from graphql_schema.node import register_node
from graphql_schema.pagination import After, Before, Connection, First, Last, PageArgs, connection_from_list
from graphql_schema.rows import from_row
from graphql_schema.status.loaders import (
    CurrentStatusLoader,
    TransitionsByEntityLoader,
    WorkflowByIdLoader,
)

WITH_A_STATUS = (
    EntityType.ORDER,
    EntityType.PARTNER_COMMISSION,
    EntityType.INVOICE,
    EntityType.CREDIT_NOTE,
    EntityType.PAYMENT,
    EntityType.INTERNAL_TASK,
    EntityType.QUOTE,
    EntityType.VISIT,
    EntityType.WORK_ORDER,
)
"""The entity types registered with the status engine (app/wiring.py); the GraphQL enum offers
these only, and a test keeps the two the same."""
StatusEntityType = enum.StrEnum("StatusEntityType", {t.name: t.value for t in WITH_A_STATUS})  # type: ignore[misc]
EntityTypeEnum = strawberry.enum(
    StatusEntityType, name="EntityType", description="The kinds of entity that have a status and a workflow."
)
MovementEnum = strawberry.enum(Movement, name="StatusMovement")
StepTypeEnum = strawberry.enum(StepType, name="StepType")


@strawberry.type(description="One status of a workflow.")
class WorkflowStep:
    status_name: str
    label: str
    color: str
    step_order: int
    step_type: StepTypeEnum  # type: ignore[valid-type]
    allowed_transitions: list[str]
    sla_hours: int | None
    requires_approval: bool
    approval_role: str | None
    is_milestone: bool
    is_final: bool
    creates_commissions: bool = strawberry.field(description="Reaching it creates the order's commissions.")
    locks_lines: bool = strawberry.field(description="In it, the order's lines can no longer change.")

    @classmethod
    def from_model(cls, step: StatusWorkflowStep) -> Self:
        return from_row(cls, step, allowed_transitions=list(step.allowed_transitions))


@strawberry.type(description="The statuses an entity type moves through, per brand or by default.")
class Workflow(relay.Node):
    id: relay.NodeID[str]
    entity_type: EntityTypeEnum  # type: ignore[valid-type]
    name: str
    description: str | None
    is_default: bool
    is_active: bool
    steps: list[WorkflowStep]
    business_entity_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_data(cls, data: WorkflowData) -> Self:
        row = data.row
        return cls(
            id=str(row.id),
            entity_type=StatusEntityType(row.entity_type),
            name=row.name,
            description=row.description,
            is_default=row.is_default,
            is_active=row.is_active,
            steps=[WorkflowStep.from_model(s) for s in sorted(data.steps.values(), key=lambda s: s.step_order)],
            business_entity_id=row.business_entity_id,
        )

    @strawberry.field(description="Null for an entity type's default workflow.")
    async def business_entity(self, info: Info) -> BusinessEntity | None:
        return await load_business_entity(info, self.business_entity_id)


@strawberry.type(description="Where an entity stands now.")
class CurrentStatus:
    name: str
    label: str
    color: str
    since: datetime
    sla_deadline: datetime | None
    is_final: bool
    overdue_since: datetime | None = strawberry.field(
        default=None,
        description="The SLA monitor's stored mark: set (to the deadline) by its hourly run once the deadline passed.",
    )

    @strawberry.field(description="The SLA deadline of this status has passed (now, not waiting for the monitor).")
    @context_only
    def is_overdue(self) -> bool:
        return self.sla_deadline is not None and not self.is_final and self.sla_deadline < datetime.now(UTC)

    @classmethod
    def from_models(cls, current: EntityCurrentStatus, step: StatusWorkflowStep) -> Self:
        return cls(
            name=current.status,
            label=step.label,
            color=step.color,
            since=current.since,
            sla_deadline=current.sla_deadline,
            is_final=step.is_final,
            overdue_since=current.overdue_since,
        )


@strawberry.type(description="One change of status: the append-only history.")
class StatusTransition:
    id: strawberry.ID
    from_status: str | None
    to_status: str
    movement: MovementEnum  # type: ignore[valid-type]
    reason: str | None
    business_context_json: strawberry.Private[str]
    triggered_by_system: str | None
    sla_deadline: datetime | None
    is_milestone: bool
    created_at: datetime
    triggered_by_account_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, row: TransitionModel) -> Self:
        """From a read row (its context as JSON text) or a transition just written."""
        context = getattr(row, "business_context_json", None)
        if context is None:
            context = json.dumps(row.business_context)
        return from_row(cls, row, id=strawberry.ID(str(row.id)), business_context_json=context)

    @strawberry.field(description="What the change was about (free-form, set by whoever made it).")
    @context_only
    def business_context(self) -> JSON:
        return json.loads(self.business_context_json)

    @strawberry.field(description="Who made the change, by name (null for system changes).")
    @context_only
    def triggered_by(self, info: Info) -> str | None:
        if self.triggered_by_account_id is None:
            return None
        from graphql_schema.accounts.loaders import AccountNameLoader

        loader = info.context.loaders.get(AccountNameLoader)
        return now_or_later(loader, self.triggered_by_account_id, lambda name: name)  # type: ignore[return-value]


# --- what entities with a status share --------------------------------------------------------


async def allowed_transitions(info: Info, entity_type: EntityType, entity_id: uuid.UUID) -> list[WorkflowStep]:
    """The steps this viewer may move the entity to now (approval roles applied)."""
    found = await info.context.loaders.get(CurrentStatusLoader).load((entity_type.value, entity_id))
    if not found:
        return []
    current, _ = found
    workflow = await info.context.loaders.get(WorkflowByIdLoader).load(current.workflow_id)
    if workflow is None or not info.context.is_staff:
        return []
    return [WorkflowStep.from_model(s) for s in allowed_targets(workflow, current.status, info.context.roles)]


_WITH_STATUS: dict[EntityType, type] = {}


def graphql_type_of(entity_type: EntityType) -> str:
    """The GraphQL type of an entity with a status (whose ids `changeStatus` takes)."""
    return _WITH_STATUS[entity_type].__name__


@strawberry.type
class WithStatus:
    """The status fields of an entity the engine keeps; the subclass names its entity type."""

    entity_type: ClassVar[EntityType]
    uuid: strawberry.Private[uuid.UUID]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "entity_type" in cls.__dict__:
            _WITH_STATUS[cls.entity_type] = cls

    @strawberry.field
    @context_only
    def status(self, info: Info) -> CurrentStatus | None:
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(CurrentStatusLoader),
            (self.entity_type.value, self.uuid),
            lambda found: CurrentStatus.from_models(*found) if found else None,
        )

    @strawberry.field(description="Every status change, newest first.")
    @context_only
    def status_history(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[StatusTransition]:
        page, size = PageArgs(first, after, last, before), info.context.max_page_size
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(TransitionsByEntityLoader),
            (self.entity_type.value, self.uuid),
            lambda rows: connection_from_list(rows, page, size, StatusTransition.from_model),
        )

    @strawberry.field(description="The statuses this viewer may move it to now.")
    async def allowed_transitions(self, info: Info) -> list[WorkflowStep]:
        return await allowed_transitions(info, self.entity_type, self.uuid)


async def _load_nodes(info: Info, ids: Sequence[uuid.UUID]) -> list[Workflow | None]:
    found = await info.context.loaders.get(WorkflowByIdLoader).load_many(ids)
    return [Workflow.from_data(w) if w is not None else None for w in found]


register_node("Workflow", _load_nodes)
