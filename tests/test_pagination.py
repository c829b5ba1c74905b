"""A root list's page (graphql_schema/pagination.py): counted and read side by side when the page
is counted from the start, the count first when it is counted from the end; the same page either
way, whatever the cursors."""

from __future__ import annotations

import asyncio

import pytest

from graphql_schema.pagination import PageArgs, connection_from_query, encode_cursor

ITEMS = list(range(10))


def _source(log: list[str], both_at_once: asyncio.Event | None = None):
    async def count() -> int:
        log.append("count")
        if both_at_once is not None:
            await asyncio.wait_for(both_at_once.wait(), 2)  # only set once the read began too
        return len(ITEMS)

    async def fetch(offset: int, limit: int) -> list[int]:
        log.append(f"fetch {offset} {limit}")
        if both_at_once is not None:
            both_at_once.set()
        return ITEMS[offset : offset + limit]

    return count, fetch


def _page(connection) -> tuple[list[int], int, bool, bool]:
    info = connection.page_info
    return connection.nodes, connection.total_count, info.has_previous_page, info.has_next_page


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (PageArgs(first=3), ([0, 1, 2], 10, False, True)),
        (PageArgs(first=3, after=encode_cursor(7)), ([8, 9], 10, True, False)),
        (PageArgs(first=3, after=encode_cursor(20)), ([], 10, True, False)),
        (PageArgs(first=5, after=encode_cursor(1), before=encode_cursor(4)), ([2, 3], 10, True, True)),
        (PageArgs(first=0), ([], 10, False, True)),
        (PageArgs(), (ITEMS, 10, False, False)),
    ],
)
async def test_a_page_from_the_start_is_read_while_it_is_counted(page: PageArgs, expected) -> None:
    log: list[str] = []
    count, fetch = _source(log, asyncio.Event() if page.first != 0 else None)
    assert _page(await connection_from_query(page, 50, count, fetch, lambda item: item)) == expected
    assert log[0] == "count" and len(log) == (1 if page.first == 0 else 2)


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (PageArgs(last=3), ([7, 8, 9], 10, True, False)),
        (PageArgs(last=3, before=encode_cursor(2)), ([0, 1], 10, False, True)),
    ],
)
async def test_a_page_from_the_end_is_counted_first(page: PageArgs, expected) -> None:
    log: list[str] = []
    count, fetch = _source(log)
    assert _page(await connection_from_query(page, 50, count, fetch, lambda item: item)) == expected
    assert log == ["count", f"fetch {expected[0][0]} {len(expected[0])}"]
