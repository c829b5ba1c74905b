"""Bulk reads of field operations that the generic ones (app/access/reads.py) do not cover."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.access import policy
from app.access.policy import Viewer
from app.db import any_of_ids, by_keys, columns, grouped, read
from app.operations.models import Quote


async def quotes_of_orders(
    *, session: AsyncSession, order_ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, list[Any]]:
    """For each order, the quote accepted into it with every revision before it (the series),
    by revision, in one statement."""
    rows = await read(session, _quotes_of_order_ids(viewer), ids=order_ids)
    return grouped(rows, "for_order_id")


@functools.lru_cache(maxsize=policy.RULES_KEPT)
def _quotes_of_order_ids(viewer: Viewer) -> Select[Any]:
    """Kept per viewer, like its rules: building it (an alias, labels) took longer than running it."""
    accepted = aliased(Quote)
    return by_keys(  # the quote's rule is an OR of probes: no join to order by a guess at the scope
        select(accepted.order_id.label("for_order_id"), *columns(Quote))
        .join(accepted, accepted.series_id == Quote.series_id)
        .where(any_of_ids(accepted.order_id), policy.visible(viewer, Quote))
        .order_by(accepted.order_id, Quote.revision)
    )
