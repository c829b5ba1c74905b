"""Running Alembic from the application (CLI, readiness check, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

ROOT = Path(__file__).resolve().parent.parent


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """What Alembic compares with the models: not PgQueuer's tables, which PgQueuer lays out
    (migration 0013)."""
    from app.jobs.queue import QUEUE_TABLES

    return not (type_ == "table" and name in QUEUE_TABLES)


def alembic_config(url: URL, *, configure_logging: bool = True) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logging"] = configure_logging
    return cfg


def upgrade(url: URL, revision: str = "head", **kwargs: bool) -> None:
    command.upgrade(alembic_config(url, **kwargs), revision)


def downgrade(url: URL, revision: str = "base", **kwargs: bool) -> None:
    command.downgrade(alembic_config(url, **kwargs), revision)


def head_revision() -> str:
    script = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini")))
    head = script.get_current_head()
    assert head is not None, "migrations/ has no revision"
    return head


async def current_revision(conn: AsyncConnection) -> str | None:
    exists = await conn.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
    if not exists:
        return None
    return await conn.scalar(text("SELECT version_num FROM alembic_version"))
