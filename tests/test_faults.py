"""The API when the database is away, too slow or drops a connection, on a server of the test's
own that it stops mid-run: every answer is GraphQL-shaped JSON with SERVICE_UNAVAILABLE
(retryable), `Retry-After` and the request id, on the same kept-alive connection, with one log
line per request and no traceback; once the database is back, requests pass again at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from app import migrate
from app.accounts.models import Role
from app.db import create_engine, session_factory
from app.dbserver import asyncpg_dsn, ensure_database
from app.serving import Served, served
from tests.factories import issue_token
from tests.support.database import OwnServer

TIMEOUT_MS = 3000
QUERY = {"query": "{ orders(first: 1) { totalCount } }"}
MUTATION = {
    "query": 'mutation { createContact(input: {contactType: ORGANIZATION, displayName: "Noor"}) { __typename } }',
}


@pytest.fixture(scope="module")
def own_server(tmp_path_factory) -> Iterator[OwnServer]:
    server = OwnServer(tmp_path_factory.mktemp("faults") / "pgdata")
    asyncio.run(ensure_database(server.url))
    migrate.upgrade(server.url, "head")
    yield server
    server.close()


@pytest.fixture(scope="module")
def token(own_server) -> str:
    async def issue() -> str:
        engine = create_engine(own_server.url, pool_size=1)
        try:
            return await issue_token(session_factory(engine), Role.ADMIN)
        finally:
            await engine.dispose()

    return asyncio.run(issue())


@pytest.fixture(scope="module")
def api(own_server, tmp_path_factory) -> Iterator[tuple[Served, Path]]:
    log = tmp_path_factory.mktemp("faults-log") / "api.log"
    with (
        log.open("wb") as written,
        served(own_server.url, log=written, CHARGECARS_STATEMENT_TIMEOUT_MS=str(TIMEOUT_MS)) as server,
    ):
        yield server, log


def _unavailable(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["retry-after"] == "5"
    assert len(response.headers["x-request-id"]) == 32
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "SERVICE_UNAVAILABLE",
        "retryable": True,
        "retryAfterSeconds": 5,
        "reason": reason,
    }


def test_database_stopped_then_back(own_server, token, api) -> None:
    server, log = api
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as http:
        assert http.post("/graphql", json=QUERY).json()["data"] == {"orders": {"totalCount": 0}}
        logged = log.read_text()
        own_server.stop()
        try:
            for body in (QUERY, MUTATION) * 5:  # one kept-alive connection: each answered on it
                _unavailable(http.post("/graphql", json=body), "down")
            assert http.get("/readyz").status_code == 503
        finally:
            own_server.start()
        outage = log.read_text()[len(logged) :]
        started = time.monotonic()
        while (answer := http.post("/graphql", json=QUERY)).status_code != 200:
            assert time.monotonic() - started < 5, answer.text
        assert answer.json()["data"] == {"orders": {"totalCount": 0}}
    assert "Traceback" not in outage, outage
    request_lines = [line for line in outage.splitlines() if "request " in line and "database down" in line]
    assert len(request_lines) == 10, outage
    assert len(outage.splitlines()) <= 11, outage  # and the readiness check's own line


async def _blocked_on(conn: asyncpg.Connection) -> int:
    """The backend of the API request waiting for the lock the test holds."""
    for _ in range(200):
        await conn.execute("SELECT pg_stat_clear_snapshot()")  # the view is read once per transaction
        pid = await conn.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%sales_order%'"
        )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.02)
    raise AssertionError(await conn.fetch("SELECT pid, state, wait_event_type, query FROM pg_stat_activity"))


async def test_a_runaway_statement_is_stopped_and_a_lost_connection_answered(own_server, token, api) -> None:
    server, _ = api
    headers = {"Authorization": f"Bearer {token}"}
    holder = await asyncpg.connect(**asyncpg_dsn(own_server.url))
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as http:
            # a statement that waits past the statement timeout is cancelled: the request ends
            async with holder.transaction():
                await holder.execute("LOCK TABLE sales_order IN ACCESS EXCLUSIVE MODE")
                started = time.monotonic()
                response = await http.post("/graphql", json=QUERY)
                waited = time.monotonic() - started
            _unavailable(response, "timeout")
            assert TIMEOUT_MS / 1000 <= waited < TIMEOUT_MS / 1000 + 2

            # the connection under a request is lost (its backend ended) while the request runs
            async with holder.transaction():
                await holder.execute("LOCK TABLE sales_order IN ACCESS EXCLUSIVE MODE")
                request = asyncio.create_task(http.post("/graphql", json=QUERY))
                assert await holder.fetchval("SELECT pg_terminate_backend($1)", await _blocked_on(holder))
                response = await request
            _unavailable(response, "down")

            # the pool discarded the lost connection: the next request is served
            response = await http.post("/graphql", json=QUERY)
            assert response.json()["data"] == {"orders": {"totalCount": 0}}
    finally:
        await holder.close()
