"""The base of every dataloader: bound to one request's context, one statement per batch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

from aiodataloader import DataLoader

if TYPE_CHECKING:
    from graphql_schema.context import Context

K = TypeVar("K")
V = TypeVar("V")


class ContextLoader(DataLoader, Generic[K, V]):  # type: ignore[type-arg]
    def __init__(self, context: Context) -> None:
        super().__init__()
        self.context = context
