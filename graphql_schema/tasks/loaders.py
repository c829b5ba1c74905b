"""Internal task loaders, read through the visibility policy (staff's only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from app.access import reads
from app.tasks.models import InternalTask
from graphql_schema.loaders import ContextLoader


class TaskByIdLoader(ContextLoader[uuid.UUID, Any]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[Any]:
        async with self.context.db() as session:
            found = await reads.visible_by_id(session, InternalTask, keys, self.context.viewer)
        return [found.get(key) for key in keys]
