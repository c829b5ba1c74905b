"""Bulk reads through the visibility policy: the rows of a batch of keys that a viewer may see,
in one statement, as plain rows (app.db.columns). The loaders of every entity type use these."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import True_

from app.access import policy
from app.access.policy import Viewer
from app.db import any_of, columns, grouped, read, rows_by

KEPT = 1024
"""Statements of reads by keys kept: a few dozen per viewer (its entity types and keys), for the
viewers of the last requests."""


async def visible_by_id(session: AsyncSession, model: Any, ids: Collection[Any], viewer: Viewer) -> dict[Any, Any]:
    """The rows of `model` with these ids that `viewer` may see, by id."""
    rows = await read(session, select(*columns(model)).where(any_of(model.id, ids), policy.visible(viewer, model)))
    return {row.id: row for row in rows}


async def visible_by(
    session: AsyncSession, model: Any, key: Any, keys: Collection[Any], viewer: Viewer, *order_by: Any
) -> dict[Any, list[Any]]:
    """The rows of `model` whose `key` column is one of `keys` and that `viewer` may see, grouped
    by key, each group in `order_by` order. `keys` are ids of rows the viewer was shown (read
    through the policy): a child that follows its parent by `key` needs no test of its own
    (`policy.visible_under`)."""
    rows = await read(session, _kept_by(viewer, model, key, order_by), ids=keys)
    return grouped(rows, key.key)


@functools.lru_cache(maxsize=KEPT)
def _kept_by(viewer: Viewer, model: Any, key: Any, order_by: tuple[Any, ...]) -> Select[Any]:
    """The statement of `visible_by`, built once per viewer, model, key and order and kept, its
    keys bound when it runs (`any_of_ids`): building a statement and working out its cache key
    (SQLAlchemy walks it whole for a new one) cost more than running it (docs/benchmarks.md).
    A rule left to test is tested per row read (`policy.per_row`): the plan is the same whoever
    the viewer is, and PostgreSQL's generic plan serves (`by_keys`)."""
    condition = policy.visible_under(viewer, model, key)
    kept = rows_by(key, order_by)  # shared by every viewer when the parent's verdict stands
    return kept if isinstance(condition, True_) else kept.where(policy.per_row(condition))


Filtered = Callable[[Any, Any, Viewer], Any]
"""Adds a filter's conditions (and the policy's) to a statement on a model."""


def listing(model: Any, filtered: Filtered, *order_by: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The `count` and `search` of a root list of `model` (what `filtered_connection` takes):
    both through `filtered(statement, filter_in, viewer)`, the page in `order_by` order."""

    async def count(*, session: AsyncSession, filter_in: Any, viewer: Viewer) -> int:
        return int(await session.scalar(filtered(select(func.count()).select_from(model), filter_in, viewer)) or 0)

    async def search(*, session: AsyncSession, filter_in: Any, viewer: Viewer, offset: int, limit: int) -> list[Any]:
        stmt = filtered(select(*columns(model)), filter_in, viewer)
        return await read(session, stmt.order_by(*order_by).offset(offset).limit(limit))

    return count, search
