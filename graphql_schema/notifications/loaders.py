"""Communication loaders, read through the visibility policy (`app/access/policy.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from app.access import reads
from app.notifications import service
from app.notifications.models import Communication, NotificationTemplate
from graphql_schema.loaders import ContextLoader


class CommunicationsByOrderLoader(ContextLoader[uuid.UUID, list[Any]]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[Any]]:
        async with self.context.db() as session:
            found = await service.communications_of_many(
                session=session, key=Communication.order_id, ids=keys, viewer=self.context.viewer
            )
        return [found.get(key, []) for key in keys]


class CommunicationsByContactLoader(ContextLoader[uuid.UUID, list[Any]]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[Any]]:
        async with self.context.db() as session:
            found = await service.communications_of_many(
                session=session, key=Communication.recipient_contact_id, ids=keys, viewer=self.context.viewer
            )
        return [found.get(key, []) for key in keys]


class TemplateByIdLoader(ContextLoader[uuid.UUID, Any]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[Any]:
        async with self.context.db() as session:
            found = await reads.visible_by_id(session, NotificationTemplate, keys, self.context.viewer)
        return [found.get(key) for key in keys]
