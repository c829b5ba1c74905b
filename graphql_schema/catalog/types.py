"""Articles (the catalogue of each brand)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.catalog.models import Article as ArticleModel
from graphql_schema.business_entities.types import BusinessEntity, load_business_entity
from graphql_schema.catalog.loaders import ArticleByIdLoader
from graphql_schema.execution import context_only
from graphql_schema.node import register_node
from graphql_schema.rows import from_row


@strawberry.type(description="Something a brand sells: a charger, an installation package, cable per metre…")
class Article(relay.Node):
    id: relay.NodeID[str]
    sku: str
    name: str
    unit: str
    unit_price: Decimal = strawberry.field(description="EUR, excluding VAT.")
    vat_rate: Decimal = strawberry.field(description="Percent: 21, 9 or 0.")
    is_active: bool
    business_entity_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, model: ArticleModel) -> Self:
        return from_row(cls, model, id=str(model.id))

    @strawberry.field
    @context_only
    async def business_entity(self, info: Info) -> BusinessEntity | None:
        return await load_business_entity(info, self.business_entity_id)


async def load_article(info: Info, article_id: uuid.UUID | None) -> Article | None:
    if article_id is None:
        return None
    model = await info.context.loaders.get(ArticleByIdLoader).load(article_id)
    return Article.from_model(model) if model else None


async def _load_nodes(info: Info, ids: Sequence[uuid.UUID]) -> list[Article | None]:
    return [
        Article.from_model(m) if m else None for m in await info.context.loaders.get(ArticleByIdLoader).load_many(ids)
    ]


register_node("Article", _load_nodes)
