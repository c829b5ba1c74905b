"""Test fixtures: a real PostgreSQL database, migrated once, emptied after every test.

The server is the embedded one in `.pgdata-test` (CHARGECARS_TEST_DATA_DIR), or the server of
DATABASE_URL when that is set; the tests use a database of their own on it
(`<name>_test`), never the `make run` one.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

# uploaded documents (the demo's photos among them) go to a directory of the test run's own
os.environ.setdefault("CHARGECARS_DOCUMENTS_DIR", tempfile.mkdtemp(prefix="chargecars-documents-"))

from app import migrate
from app.accounts.models import Role
from app.asgi import create_app
from app.config import Settings
from app.db import Base, create_engine, session_factory
from app.dbserver import drop_database, ensure_database
from app.jobs.queue import QUEUE_TABLES
from app.serving import free_port, served
from app.wiring import wire
from tests.factories import brand_id, gid, issue_token, load_demo
from tests.support.api import CREATE_ORDER, gql
from tests.support.database import scratch_database

# Seeded by migrations: never emptied (number series only get their counters reset).
REFERENCE_TABLES = frozenset({"business_entity", "status_workflow", "status_workflow_step", "number_sequence"})


@pytest.fixture(scope="session", autouse=True)
def _wired() -> None:
    """The tests run the application as every entry point does: wired once (app/wiring.py)."""
    wire()


@pytest.fixture(scope="session")
def database_url() -> URL:
    url = scratch_database("test")
    asyncio.run(drop_database(url))
    asyncio.run(ensure_database(url))
    migrate.upgrade(url, configure_logging=False)
    return url


@pytest.fixture(scope="module")
def server(database_url: URL) -> Iterator[str]:
    """The API behind a real uvicorn process (`chargecars serve`), for what only a real HTTP server
    shows: malformed bytes on the wire, kept-alive connections, one request starving another.
    Yields its base URL. Partners are not rate-limited there: the fuzz sends hundreds of
    operations a minute as a partner (tests/partners/test_usage.py tests the limit)."""
    with served(database_url, CHARGECARS_PARTNER_RATE_LIMIT="1000000") as api:
        yield api.base_url


@pytest.fixture(scope="session")
def settings(database_url: URL) -> Settings:
    return Settings.from_env().model_copy(
        update={
            "database_url": database_url.render_as_string(hide_password=False),
            "database_name": database_url.database or "",
            "log_level": "warning",
            # no mail server there: a developer's own mailbox (`make run`, port 1025) gets no test mail
            "smtp_port": free_port(),
            # tests that flood the API in process (200 concurrent creations) test what they flood,
            # not admission control (tests/test_overload.py does, with limits of its own)
            "max_queued_requests": 1000,
            "queue_timeout_seconds": 300.0,
        }
    )


@pytest.fixture(scope="session")
async def engine(database_url: URL) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=20, max_overflow=20)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture(autouse=True)
async def _empty_database(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test starts from the migrated database with only its reference data."""
    yield
    if "engine" not in request.fixturenames:
        return
    engine: AsyncEngine = request.getfixturevalue("engine")
    tables = ", ".join(
        [t.name for t in Base.metadata.sorted_tables if t.name not in REFERENCE_TABLES] + sorted(QUEUE_TABLES)
    )
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY"))
        await conn.execute(
            text("DELETE FROM number_sequence WHERE created_at > (SELECT min(created_at) FROM number_sequence)")
        )
        await conn.execute(text("UPDATE number_sequence SET last_value = 0"))


@pytest.fixture
async def client(engine: AsyncEngine, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(engine=engine, settings=settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


@pytest.fixture
async def admin_token(sessions: async_sessionmaker[AsyncSession]) -> str:
    return await issue_token(sessions, Role.ADMIN)


# --- statement counting -----------------------------------------------------------------------


@dataclass
class StatementCounter:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def queries(self) -> list[str]:
        """The statements besides the setup of each transaction's viewer (its role and settings,
        app.db) and the switches of its plan cache mode (`app.db.by_keys`): what the request
        asked of the data."""
        return [s for s in self.statements if VIEWER_SETUP not in s and not s.startswith(PLAN_SWITCH)]

    @property
    def transactions(self) -> int:
        """Transactions that set up a viewer: a request's read connections (up to
        `read_connections`), and a mutation's own."""
        return sum(VIEWER_SETUP in s for s in self.statements)


VIEWER_SETUP = "set_config('role'"
PLAN_SWITCH = "SELECT set_config('plan_cache_mode'"


@pytest.fixture
def count_statements(engine: AsyncEngine):
    """`with count_statements() as counter:` counts every SQL statement sent to the server."""

    @contextmanager
    def counting() -> Iterator[StatementCounter]:
        counter = StatementCounter()

        def listener(conn, cursor, statement, parameters, context, executemany):
            counter.statements.append(statement)

        event.listen(engine.sync_engine, "before_cursor_execute", listener)
        try:
            yield counter
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", listener)

    return counting


# --- orders -----------------------------------------------------------------------------------


@pytest.fixture
async def demo(sessions):
    return await load_demo(sessions)


@pytest.fixture
def create_order(client, sessions):
    async def create(
        token: str,
        *,
        brand: str = "CC",
        account,
        end_customer=None,
        channel=(),
        notes=None,
    ) -> dict[str, Any]:
        variables = {
            "input": {
                "businessEntityId": gid("BusinessEntity", await brand_id(sessions, brand)),
                "accountContactId": gid("Contact", account.id),
                "endCustomerContactId": gid("Contact", end_customer.id) if end_customer else None,
                "channelContactIds": [gid("Contact", c.id) for c in channel],
                "notes": notes,
            }
        }
        return (await gql(client, CREATE_ORDER, variables, token=token))["createOrder"]

    return create


CHAIN = [
    "Agent Jansen Verkoop",
    "Snellader Service Haren",
    "Laadpunt Groningen",
    "Voltara Regio Noord",
    "Voltara Distribution B.V.",
]


@pytest.fixture
def chain(demo):
    contacts, _ = demo
    return [contacts[name] for name in CHAIN]
