"""Partner loaders, read through the visibility policy (`app/access/policy.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from app.access import reads
from app.partners import service
from app.partners.models import WebhookDelivery
from graphql_schema.loaders import ContextLoader


class IntegrationByIdLoader(ContextLoader[uuid.UUID, Any]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[Any]:
        async with self.context.db() as session:
            found = await service.integrations_by_id(session=session, ids=keys, viewer=self.context.viewer)
        return [found.get(key) for key in keys]


class ProductsByIntegrationLoader(ContextLoader[uuid.UUID, list[Any]]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[Any]]:
        async with self.context.db() as session:
            found = await service.products_of_many(session=session, integration_ids=keys, viewer=self.context.viewer)
        return [found.get(key, []) for key in keys]


class PartnerReferenceLoader(ContextLoader[uuid.UUID, Any]):
    """An order's partner references (an order comes from one partner at most)."""

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[Any]:
        async with self.context.db() as session:
            found = await service.partner_orders_of_many(session=session, order_ids=keys, viewer=self.context.viewer)
        return [next(iter(found.get(key, [])), None) for key in keys]


class DeliveryByIdLoader(ContextLoader[uuid.UUID, Any]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[Any]:
        async with self.context.db() as session:
            found = await reads.visible_by_id(session, WebhookDelivery, keys, self.context.viewer)
        return [found.get(key) for key in keys]


class AttemptsByDeliveryLoader(ContextLoader[uuid.UUID, list[Any]]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[Any]]:
        async with self.context.db() as session:
            found = await service.attempts_of_many(session=session, delivery_ids=keys, viewer=self.context.viewer)
        return [found.get(key, []) for key in keys]
