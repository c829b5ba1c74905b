"""The brand type."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.business_entities.models import BusinessEntity as BusinessEntityModel
from graphql_schema.business_entities.loaders import BusinessEntityByIdLoader
from graphql_schema.loaders import awaited, now_or_later
from graphql_schema.node import register_node
from graphql_schema.rows import from_row


@strawberry.type(description="One of the five brands the back office runs.")
class BusinessEntity(relay.Node):
    id: relay.NodeID[str]
    code: str
    name: str

    @classmethod
    def from_model(cls, model: BusinessEntityModel) -> Self:
        return from_row(cls, model, id=str(model.id))


async def load_business_entity(info: Info, entity_id: uuid.UUID | None) -> BusinessEntity | None:
    return await awaited(business_entity_of(info, entity_id))


def business_entity_of(info: Info, entity_id: uuid.UUID | None) -> Any:
    """A brand for a resolver to return: at once when its page prefetched it, else loaded."""
    if entity_id is None:
        return None
    return now_or_later(
        info.context.loaders.get(BusinessEntityByIdLoader),
        entity_id,
        lambda model: BusinessEntity.from_model(model) if model is not None else None,
    )


async def _load_nodes(info: Info, ids: Sequence[uuid.UUID]) -> list[BusinessEntity | None]:
    models = await info.context.loaders.get(BusinessEntityByIdLoader).load_many(ids)
    return [BusinessEntity.from_model(m) if m is not None else None for m in models]


register_node("BusinessEntity", _load_nodes)
