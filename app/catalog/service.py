"""Reading the catalogue: each brand's articles."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Article
from app.db import any_of


async def articles(*, session: AsyncSession, business_entity_id: uuid.UUID | None, active_only: bool) -> list[Article]:
    stmt = select(Article).order_by(Article.business_entity_id, Article.sku)
    if business_entity_id is not None:
        stmt = stmt.where(Article.business_entity_id == business_entity_id)
    if active_only:
        stmt = stmt.where(Article.is_active.is_(True))
    return list((await session.scalars(stmt)).all())


async def articles_by_id(*, session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Article]:
    return {a.id: a for a in await session.scalars(select(Article).where(any_of(Article.id, ids)))}
