"""Bulk reads through the visibility policy: the rows of a batch of keys that a viewer may see,
in one statement, as plain rows (app.db.columns). The loaders of every entity type use these."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import policy
from app.access.policy import Viewer
from app.db import any_of, columns, grouped, read


async def visible_by_id(session: AsyncSession, model: Any, ids: Collection[Any], viewer: Viewer) -> dict[Any, Any]:
    """The rows of `model` with these ids that `viewer` may see, by id."""
    rows = await read(session, select(*columns(model)).where(any_of(model.id, ids), policy.visible(viewer, model)))
    return {row.id: row for row in rows}


async def visible_by(
    session: AsyncSession, model: Any, key: Any, keys: Collection[Any], viewer: Viewer, *order_by: Any
) -> dict[Any, list[Any]]:
    """The rows of `model` whose `key` column is one of `keys` and that `viewer` may see, grouped
    by key, each group in `order_by` order."""
    rows = await read(
        session,
        select(*columns(model)).where(any_of(key, keys), policy.visible(viewer, model)).order_by(key, *order_by),
    )
    return grouped(rows, key.key)
