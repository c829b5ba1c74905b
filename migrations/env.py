"""Alembic environment: async engine (asyncpg), URL handed in by app.migrate."""

from __future__ import annotations

import asyncio
import logging.config

from alembic import context
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.migrate import include_name
from app.models import Base
from app.wiring import wire

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata
wire()  # the same application as the API's: a data migration may publish events


def _url() -> str | URL:
    url = config.attributes.get("url")
    if url is None:
        from app.config import get_settings
        from app.dbserver import resolve_database_url

        url = resolve_database_url(get_settings())
    return url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_metadata, compare_type=True, include_name=include_name
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_url(), poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
