"""Loaders of the brands."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from app.business_entities import service
from app.business_entities.models import BusinessEntity
from graphql_schema.loaders import ContextLoader


class BusinessEntityByIdLoader(ContextLoader[uuid.UUID, BusinessEntity | None]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[BusinessEntity | None]:
        async with self.context.db() as session:
            found = await service.get_many(session=session, ids=keys)
        return [found.get(key) for key in keys]
