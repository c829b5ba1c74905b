"""Migrations: up, down and up again on an empty database; models and migrations agree."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app import migrate
from app.db import Base
from app.jobs.queue import QUEUE_TABLES
from app.migrate import include_name
from tests.support.database import scratch_database


async def _tables(url: URL) -> set[str]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            )
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


def test_upgrade_downgrade_upgrade_on_an_empty_database() -> None:
    from app.dbserver import drop_database, ensure_database

    url = scratch_database("migrations")
    asyncio.run(drop_database(url))
    asyncio.run(ensure_database(url))
    try:
        migrate.upgrade(url, configure_logging=False)
        assert asyncio.run(_tables(url)) == set(Base.metadata.tables) | QUEUE_TABLES
        migrate.downgrade(url, "base", configure_logging=False)
        assert asyncio.run(_tables(url)) == set()
        migrate.upgrade(url, configure_logging=False)
        assert asyncio.run(_tables(url)) == set(Base.metadata.tables) | QUEUE_TABLES
    finally:
        asyncio.run(drop_database(url))


async def test_models_and_migrations_agree(engine) -> None:
    def diff(sync_conn):
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True, "include_name": include_name})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_database_is_at_head(engine) -> None:
    async with engine.connect() as conn:
        assert await migrate.current_revision(conn) == migrate.head_revision()


async def test_brands_are_seeded(engine) -> None:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT code, name FROM business_entity ORDER BY code"))).all()
    assert [tuple(r) for r in rows] == [
        ("CC", "ChargeCars"),
        ("LT", "LaderThuis"),
        ("MKT", "MeterKastThuis"),
        ("RS", "Ratio Shop"),
        ("ZS", "Zaptec Shop"),
    ]
