"""The contact hierarchy as plain data: the oracle visibility tests compute what each viewer
should see with, independently of app/ (docs/design.md, "Visibility")."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping


class Hierarchy:
    """Parents given once; children worked out once, so each question walks only what it asks."""

    def __init__(self, parent: Mapping[uuid.UUID, uuid.UUID | None]) -> None:
        self.parent = dict(parent)
        self.children: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for child, of in self.parent.items():
            if of is not None:
                self.children[of].append(child)

    def below(self, root: uuid.UUID) -> set[uuid.UUID]:
        """Everything under `root` (not `root` itself)."""
        found: set[uuid.UUID] = set()
        stack = [root]
        while stack:
            for child in self.children[stack.pop()]:
                found.add(child)
                stack.append(child)
        return found

    def above(self, contact: uuid.UUID) -> list[uuid.UUID]:
        """The chain over `contact`, nearest first."""
        chain, current = [], self.parent[contact]
        while current is not None:
            chain.append(current)
            current = self.parent[current]
        return chain


class Tree(Hierarchy):
    """The hierarchy as plain data, read straight from the table."""

    def __init__(self, rows) -> None:
        super().__init__({row.id: row.parent_organization_id for row in rows})
        self.kind = {row.id: row.contact_type for row in rows}

    def expected(self, viewer: uuid.UUID | None, role: str) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
        """(contacts seen in full, contacts seen by name only)."""
        if viewer is None:
            return set(self.parent), set()
        root, organisation = viewer, self.parent[viewer]
        if role == "partner" and self.kind[viewer] == "person" and organisation is not None:
            root = organisation
        members = {root, viewer} | self.below(root)
        return members, set(self.above(viewer)) - members
