"""The base of every dataloader: bound to one request's context, one statement per batch."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aiodataloader import DataLoader

if TYPE_CHECKING:
    from graphql_schema.context import Context

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")


class ContextLoader(DataLoader, Generic[K, V]):  # type: ignore[type-arg]
    def __init__(self, context: Context) -> None:
        super().__init__()
        self.context = context


def now_or_later(loader: DataLoader, key: Any, convert: Callable[[Any], R]) -> R | Awaitable[R]:
    """`convert(value)` at once when `loader` already holds the value for `key` (a root list
    prefetched it for its page), else an awaitable that loads it. A resolver that returns this
    resolves synchronously on prefetched data (no task, no await) and still works alone."""
    future = loader._cache.get(loader.get_cache_key(key))
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return convert(future.result())
    return _converted(loader.load(key), convert)


async def _converted(pending: Awaitable[Any], convert: Callable[[Any], R]) -> R:
    return convert(await pending)


async def awaited(value: R | Awaitable[R]) -> R:
    """The value of a `now_or_later` result, for callers that await."""
    return await value if inspect.isawaitable(value) else value  # type: ignore[return-value]
