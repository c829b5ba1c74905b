"""Loaders of the status engine: current status, history, workflows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from app.status import engine
from app.status.engine import Workflow
from app.status.models import EntityCurrentStatus, StatusTransition, StatusWorkflowStep
from graphql_schema.loaders import ContextLoader

EntityKey = tuple[str, uuid.UUID]


class CurrentStatusLoader(ContextLoader[EntityKey, tuple[EntityCurrentStatus, StatusWorkflowStep] | None]):
    async def batch_load_fn(self, keys: Sequence[EntityKey]) -> list:
        async with self.context.db() as session:
            found = await engine.current_of_many(session=session, keys=keys)
        return [found.get(key) for key in keys]


class TransitionsByEntityLoader(ContextLoader[EntityKey, list[StatusTransition]]):
    async def batch_load_fn(self, keys: Sequence[EntityKey]) -> list[list[StatusTransition]]:
        async with self.context.db() as session:
            found = await engine.transitions_of_many(session=session, keys=keys)
        return [found.get(key, []) for key in keys]


class WorkflowByIdLoader(ContextLoader[uuid.UUID, Workflow | None]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[Workflow | None]:
        async with self.context.db() as session:
            found = await engine.workflows_of_many(session=session, ids=keys)
        return [found.get(key) for key in keys]
