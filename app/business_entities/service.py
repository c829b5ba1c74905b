"""Reading the brands."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.business_entities.models import BusinessEntity
from app.db import any_of, by_keys, columns, read


async def list_all(*, session: AsyncSession) -> Sequence[BusinessEntity]:
    return (await session.scalars(select(BusinessEntity).order_by(BusinessEntity.code))).all()


async def get_many(*, session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, BusinessEntity]:
    rows = await read(session, by_keys(select(*columns(BusinessEntity)).where(any_of(BusinessEntity.id, ids))))
    return {row.id: row for row in rows}
