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
