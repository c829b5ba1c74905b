"""Brand queries."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.business_entities import service
from graphql_schema.business_entities.types import BusinessEntity


@strawberry.type
class BusinessEntityQueries:
    @strawberry.field(description="The five brands.")
    async def business_entities(self, info: Info) -> list[BusinessEntity]:
        async with info.context.db() as session:
            rows = await service.list_all(session=session)
        return [BusinessEntity.from_model(row) for row in rows]
