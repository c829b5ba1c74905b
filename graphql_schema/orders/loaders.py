"""Order loaders. Orders are read through the visibility policy (`app/access/policy.py`);
what hangs off an order is reached only from a visible one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from app.orders import holds, lines, service
from app.orders.models import LineItem, Order, OrderChannel, OrderHold
from graphql_schema.loaders import ContextLoader


class OrderByIdLoader(ContextLoader[uuid.UUID, Order | None]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[Order | None]:
        async with self.context.db() as session:
            found = await service.get_many(session=session, ids=keys, viewer=self.context.viewer)
        return [found.get(key) for key in keys]


class ChannelByOrderIdLoader(ContextLoader[uuid.UUID, list[OrderChannel]]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[OrderChannel]]:
        async with self.context.db() as session:
            found = await service.channels_of_many(session=session, order_ids=keys)
        return [found.get(key, []) for key in keys]


class HoldsByOrderIdLoader(ContextLoader[uuid.UUID, list[OrderHold]]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[OrderHold]]:
        async with self.context.db() as session:
            found = await holds.holds_of_many(session=session, order_ids=keys)
        return [found.get(key, []) for key in keys]


class OrderCountByContactIdLoader(ContextLoader[uuid.UUID, int]):
    """How many visible orders a contact has any role on."""

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[int]:
        async with self.context.db() as session:
            found = await service.count_involving_many(session=session, contact_ids=keys, viewer=self.context.viewer)
        return [found.get(key, 0) for key in keys]


class OrderPageByContactLoader(ContextLoader[service.PageKey, list[Order]]):
    """A page (contact, offset, limit) of the visible orders a contact has any role on, newest first."""

    async def batch_load_fn(self, keys: Sequence[service.PageKey]) -> list[list[Order]]:
        async with self.context.db() as session:
            found = await service.page_involving_many(session=session, pages=keys, viewer=self.context.viewer)
        return [found.get(key, []) for key in keys]


class LinesByOrderIdLoader(ContextLoader[uuid.UUID, list[LineItem]]):
    """Lines of an order; its totals are computed from the same batch."""

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[LineItem]]:
        async with self.context.db() as session:
            found = await lines.lines_of_many(session=session, order_ids=keys)
        return [found.get(key, []) for key in keys]
