"""Bulk reads of field operations that the generic ones (app/access/reads.py) do not cover."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.access import policy
from app.access.policy import Viewer
from app.db import any_of, columns, grouped, read
from app.operations.models import Quote


async def quotes_of_orders(
    *, session: AsyncSession, order_ids: Collection[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, list[Any]]:
    """For each order, the quote accepted into it with every revision before it (the series),
    by revision, in one statement."""
    accepted = aliased(Quote)
    rows = await read(
        session,
        select(accepted.order_id.label("for_order_id"), *columns(Quote))
        .join(accepted, accepted.series_id == Quote.series_id)
        .where(any_of(accepted.order_id, order_ids), policy.visible(viewer, Quote))
        .order_by(accepted.order_id, Quote.revision),
    )
    return grouped(rows, "for_order_id")
