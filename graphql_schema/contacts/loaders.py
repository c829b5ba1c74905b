"""Contact loaders. Each applies the viewer's scope, so no resolver can forget it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from app.contacts import service
from app.contacts.models import Contact
from app.contacts.service import HierarchyEntry
from graphql_schema.loaders import ContextLoader


class ContactByIdLoader(ContextLoader[uuid.UUID, Contact | None]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[Contact | None]:
        async with self.context.db() as session:
            found = await service.get_many(session=session, ids=keys)
        scope = self.context.scope
        return [
            contact if contact is not None and scope.can_see_contact(contact.id) else None
            for contact in map(found.get, keys)
        ]


class ChildrenByParentIdLoader(ContextLoader[uuid.UUID, list[Contact]]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[Contact]]:
        async with self.context.db() as session:
            by_parent = await service.children_of_many(session=session, parent_ids=keys)
        scope = self.context.scope
        return [[c for c in by_parent.get(key, []) if scope.can_see_contact(c.id)] for key in keys]


class AncestorsByContactIdLoader(ContextLoader[uuid.UUID, list[HierarchyEntry]]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[HierarchyEntry]]:
        async with self.context.db() as session:
            chains = await service.ancestors_of_many(session=session, ids=keys)
        scope = self.context.scope
        return [[e for e in chains.get(key, []) if scope.can_see_contact(e.contact.id)] for key in keys]


class DescendantsByContactIdLoader(ContextLoader[tuple[uuid.UUID, int | None], list[HierarchyEntry]]):
    """Keyed by (contact id, max depth); the whole batch is one recursive query that goes as
    deep as the deepest request in it."""

    async def batch_load_fn(self, keys: Sequence[tuple[uuid.UUID, int | None]]) -> list[list[HierarchyEntry]]:
        depths = [depth for _, depth in keys]
        deepest = None if None in depths else max(depths)  # type: ignore[type-var]
        async with self.context.db() as session:
            trees = await service.descendants_of_many(
                session=session, ids={contact_id for contact_id, _ in keys}, max_depth=deepest
            )
        scope = self.context.scope
        return [
            [
                e
                for e in trees.get(contact_id, [])
                if (depth is None or e.level <= depth) and scope.can_see_contact(e.contact.id)
            ]
            for contact_id, depth in keys
        ]
