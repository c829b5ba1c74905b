"""Contact loaders. Each reads through the visibility policy (`app/access/policy.py`), so no
resolver can forget it: a contact comes with the viewer's access to it, or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from app.contacts import service
from app.contacts.service import HierarchyEntry, Seen
from graphql_schema.loaders import ContextLoader


class ContactByIdLoader(ContextLoader[uuid.UUID, Seen | None]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[Seen | None]:
        return await self._read(keys, parties=False)

    async def parties(self, keys: Sequence[uuid.UUID]) -> list[Seen | None]:
        """A batch (for `load_all`) of contacts that are parties to orders, or installers on
        bookings, the viewer was shown: the same values, read without testing again what showed
        them (`app.access.policy.party_access`)."""
        return await self._read(keys, parties=True)

    async def _read(self, keys: Sequence[uuid.UUID], *, parties: bool) -> list[Seen | None]:
        async with self.context.db() as session:
            found = await service.get_many(session=session, ids=keys, viewer=self.context.viewer, parties=parties)
        return [found.get(key) for key in keys]


class ChildrenByParentIdLoader(ContextLoader[uuid.UUID, list[Seen]]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[Seen]]:
        async with self.context.db() as session:
            by_parent = await service.children_of_many(session=session, parent_ids=keys, viewer=self.context.viewer)
        return [by_parent.get(key, []) for key in keys]


class AncestorsByContactIdLoader(ContextLoader[uuid.UUID, list[HierarchyEntry]]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[HierarchyEntry]]:
        async with self.context.db() as session:
            chains = await service.ancestors_of_many(session=session, ids=keys, viewer=self.context.viewer)
        return [chains.get(key, []) for key in keys]


class DescendantsByContactIdLoader(ContextLoader[tuple[uuid.UUID, int | None], list[HierarchyEntry]]):
    """Keyed by (contact id, max depth); the whole batch is one lookup that goes as deep as the
    deepest request in it."""

    async def batch_load_fn(self, keys: Sequence[tuple[uuid.UUID, int | None]]) -> list[list[HierarchyEntry]]:
        depths = [depth for _, depth in keys]
        deepest = None if None in depths else max(d for d in depths if d is not None)
        async with self.context.db() as session:
            trees = await service.descendants_of_many(
                session=session,
                ids={contact_id for contact_id, _ in keys},
                max_depth=deepest,
                viewer=self.context.viewer,
            )
        return [
            [e for e in trees.get(contact_id, []) if depth is None or e.level <= depth] for contact_id, depth in keys
        ]
