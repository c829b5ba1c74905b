"""Relay connections with `first/after`, `last/before`, `pageInfo` and `totalCount`.

Cursors are opaque offsets into the ordered result. `first` and `last` are capped (100 by
default, CHARGECARS_MAX_PAGE_SIZE); asking for more is an error, not a silent cut. With neither,
a page holds DEFAULT_PAGE_SIZE items.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, Generic, TypeVar

import strawberry

from graphql_schema.errors import bad_input
from graphql_schema.execution import context_only

DEFAULT_PAGE_SIZE: Final = 20
_CURSOR_PREFIX: Final = "offset:"

NodeT = TypeVar("NodeT")
ItemT = TypeVar("ItemT")


First = Annotated[int | None, strawberry.argument(description="Page size from the start (at most 100).")]
After = Annotated[str | None, strawberry.argument(description="Cursor to start after.")]
Last = Annotated[int | None, strawberry.argument(description="Page size from the end (at most 100).")]
Before = Annotated[str | None, strawberry.argument(description="Cursor to end before.")]
"""The paging arguments of every connection field."""


@strawberry.enum
class SortDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    nodes: list[NodeT] = strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    page_info: PageInfo
    total_count: int = strawberry.field(description="All items that match, across every page.")
    start: strawberry.Private[int]

    @strawberry.field(description="The page's nodes, each with its cursor (for `after` and `before`).")
    @context_only
    def edges(self) -> list[Edge[NodeT]]:
        # made when asked for: a page of nested connections (an order's history) needs no cursors
        return [Edge(cursor=encode_cursor(self.start + i), node=node) for i, node in enumerate(self.nodes)]


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{offset}".encode()).decode()


def decode_cursor(cursor: str, argument: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not raw.startswith(_CURSOR_PREFIX):
            raise ValueError(raw)
        offset = int(raw.removeprefix(_CURSOR_PREFIX))
        if offset < 0:
            raise ValueError(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad_input(f"`{argument}` is not a valid cursor.") from None
    return offset


@dataclass(frozen=True, slots=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def window(self, total: int, max_size: int) -> tuple[int, int]:
        """The [start, end) slice of `total` ordered items that this page covers."""
        for name, size in (("first", self.first), ("last", self.last)):
            if size is not None and not 0 <= size <= max_size:
                raise bad_input(f"`{name}` must be between 0 and {max_size}; it was {size}.")
        start = decode_cursor(self.after, "after") + 1 if self.after is not None else 0
        end = decode_cursor(self.before, "before") if self.before is not None else total
        start, end = min(start, total), min(end, total)
        end = max(end, start)
        first = self.first if self.first is not None or self.last is not None else DEFAULT_PAGE_SIZE
        if first is not None:
            end = min(end, start + first)
        if self.last is not None:
            start = max(start, end - self.last)
        return start, end

    def window_ahead(self, max_size: int) -> tuple[int, int] | None:
        """The [start, end) slice a page counted from the start covers if there are enough items
        (`window` clamps it to the total once known); None for a page counted from the end
        (`last`), which needs the total first."""
        return None if self.last is not None else self.window(sys.maxsize, max_size)


def _build(items: Sequence[NodeT], start: int, end: int, total: int) -> Connection[NodeT]:
    return Connection(
        nodes=list(items),
        page_info=PageInfo(
            has_next_page=end < total,
            has_previous_page=start > 0,
            start_cursor=encode_cursor(start) if items else None,
            end_cursor=encode_cursor(start + len(items) - 1) if items else None,
        ),
        total_count=total,
        start=start,
    )


def connection_from_list(
    items: Sequence[ItemT], page: PageArgs, max_size: int, convert: Callable[[ItemT], NodeT]
) -> Connection[NodeT]:
    """A page of a list that a loader already holds in full (nested relations)."""
    start, end = page.window(len(items), max_size)
    return _build([convert(item) for item in items[start:end]], start, end, len(items))


async def connection_from_query(
    page: PageArgs,
    max_size: int,
    count: Callable[[], Awaitable[int]],
    fetch: Callable[[int, int], Awaitable[Sequence[ItemT]]],
    convert: Callable[[ItemT], NodeT],
) -> Connection[NodeT]:
    """A page fetched with OFFSET/LIMIT and counted (root lists): side by side when the page is
    counted from the start, which needs no total to know its rows."""
    ahead = page.window_ahead(max_size)
    if ahead is None:
        total = await count()
        start, end = page.window(total, max_size)
        items = await fetch(start, end - start) if end > start else []
    else:
        first, last = ahead
        total, items = await asyncio.gather(count(), fetch(first, last - first) if last > first else _nothing())
        start, end = page.window(total, max_size)
        items = items[: end - start]  # the page as counted (rows added between the two reads aside)
    return _build([convert(item) for item in items], start, end, total)


async def _nothing() -> list[Any]:
    return []


async def filtered_connection(
    info: Any,
    page: PageArgs,
    filter_in: Any,
    count: Callable[..., Awaitable[int]],
    search: Callable[..., Awaitable[Sequence[ItemT]]],
    convert: Callable[[ItemT], NodeT],
) -> Connection[NodeT]:
    """A root list read through a service's `count` and `search` (each taking the session, the
    filter and the viewer; `search` also offset and limit)."""
    ctx = info.context

    async def counted() -> int:
        async with ctx.db() as session:
            return await count(session=session, filter_in=filter_in, viewer=ctx.viewer)

    async def fetched(offset: int, limit: int) -> Sequence[ItemT]:
        async with ctx.db() as session:
            return await search(session=session, filter_in=filter_in, viewer=ctx.viewer, offset=offset, limit=limit)

    return await connection_from_query(page, ctx.max_page_size, counted, fetched, convert)
