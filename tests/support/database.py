"""Where the tests' PostgreSQL is: the embedded one in `.pgdata-test`
(CHARGECARS_TEST_DATA_DIR), or the server of DATABASE_URL when that is set."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL

from app.dbserver import start_embedded, to_asyncpg_url

ROOT = Path(__file__).resolve().parent.parent.parent


def server_url() -> URL:
    if os.environ.get("DATABASE_URL"):
        return to_asyncpg_url(os.environ["DATABASE_URL"])
    data_dir = Path(os.environ.get("CHARGECARS_TEST_DATA_DIR", ROOT / ".pgdata-test"))
    return start_embedded(data_dir)


def scratch_database(name: str) -> URL:
    base = server_url()
    return base.set(database=f"{base.database or 'chargecars'}_{name}")
