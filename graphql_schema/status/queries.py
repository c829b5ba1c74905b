"""Workflows, for analysts."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.status import engine
from app.status.models import EntityType
from graphql_schema.node import parse_uuid
from graphql_schema.status.loaders import WorkflowByIdLoader
from graphql_schema.status.types import EntityTypeEnum, Workflow


@strawberry.type
class StatusQueries:
    @strawberry.field(description="Every workflow, optionally of one entity type.")
    async def workflows(self, info: Info, entity_type: EntityTypeEnum | None = None) -> list[Workflow]:  # type: ignore[valid-type]
        async with info.context.db() as session:
            rows = await engine.list_workflows(
                session=session, entity_type=EntityType(entity_type).value if entity_type else None
            )
        found = await info.context.loaders.get(WorkflowByIdLoader).load_many([row.id for row in rows])
        return [Workflow.from_data(w) for w in found if w is not None]

    @strawberry.field
    async def workflow(self, info: Info, id: relay.GlobalID) -> Workflow | None:
        workflow_id = parse_uuid(id.node_id) if id.type_name == "Workflow" else None
        if workflow_id is None:
            return None
        found = await info.context.loaders.get(WorkflowByIdLoader).load(workflow_id)
        return Workflow.from_data(found) if found else None
