"""Loaders of the catalogue."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from app.catalog import service
from app.catalog.models import Article
from graphql_schema.loaders import ContextLoader


class ArticleByIdLoader(ContextLoader[uuid.UUID, Article | None]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[Article | None]:
        async with self.context.db() as session:
            found = await service.articles_by_id(session=session, ids=keys)
        return [found.get(key) for key in keys]
