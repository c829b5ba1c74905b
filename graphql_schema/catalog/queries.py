"""The catalogue."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.catalog import service as catalog
from graphql_schema.catalog.types import Article
from graphql_schema.node import argument_id


@strawberry.type
class CatalogQueries:
    @strawberry.field(description="Articles, per brand when asked, active ones unless `activeOnly: false`.")
    async def articles(
        self, info: Info, business_entity_id: relay.GlobalID | None = None, active_only: bool = True
    ) -> list[Article]:
        brand = argument_id(business_entity_id, expected="BusinessEntity", field="businessEntityId")
        async with info.context.db() as session:
            rows = await catalog.articles(session=session, business_entity_id=brand, active_only=active_only)
        return [Article.from_model(row) for row in rows]
