"""The base of every dataloader: bound to one request's context, one statement per batch."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aiodataloader import DataLoader

if TYPE_CHECKING:
    from graphql_schema.context import Context

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")


class ContextLoader(DataLoader, Generic[K, V]):
    """A dataloader of one request. Besides the usual `load` (one key, batched with the other
    keys asked for in the same tick), `load_all` loads a root list's keys in bulk: one batch for
    those not known yet, kept as plain values (no future per key)."""

    def __init__(self, context: Context) -> None:
        super().__init__()
        self.context = context
        self.known: dict[Any, Any] = {}

    async def load_all(
        self, keys: Iterable[K], batch: Callable[[list[K]], Awaitable[list[V]]] | None = None
    ) -> list[V]:
        """The values of `keys`, those not known yet in one batch: `batch_load_fn`'s, or
        `batch`'s, a read of the same values that knows more about the keys."""
        keys = list(keys)
        missing = [key for key in dict.fromkeys(keys) if key not in self.known]
        if missing:
            self.known.update(zip(missing, await (batch or self.batch_load_fn)(missing), strict=True))
        return [self.known[key] for key in keys]

    def load(self, key: K) -> Any:
        if key in self.known:
            return _done(self.known[key])
        return super().load(key)


def _done(value: Any) -> asyncio.Future[Any]:
    future = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


def now_or_later(loader: DataLoader, key: Any, convert: Callable[[Any], R]) -> R | Awaitable[R]:
    """`convert(value)` at once when `loader` already holds the value for `key` (a root list
    prefetched it for its page), else an awaitable that loads it. A resolver that returns this
    resolves synchronously on prefetched data (no task, no await) and still works alone."""
    known = getattr(loader, "known", None)
    if known is not None and key in known:
        return convert(known[key])
    future = loader._cache.get(loader.get_cache_key(key))
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return convert(future.result())
    return _converted(loader.load(key), convert)


async def _converted(pending: Awaitable[Any], convert: Callable[[Any], R]) -> R:
    return convert(await pending)


async def awaited(value: R | Awaitable[R]) -> R:
    """The value of a `now_or_later` result, for callers that await."""
    return await value if inspect.isawaitable(value) else value
