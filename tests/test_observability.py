"""Logs and metrics as an operator reads them: one JSON format for every line, one access line
per request carrying the request id (the client's own when it sends one), viewer, operation,
duration and SQL statement count; Prometheus figures on `/metrics`, summed across worker
processes, for this machine or a token only."""

from __future__ import annotations

import json
import re
import uuid

import httpx
from sqlalchemy import event
from sqlalchemy import text as sql

from app import observability
from app.access.policy import Viewer
from app.asgi import create_app
from app.db import by_keys
from app.observability import count_statement
from app.serving import served

TREE = {"query": "query Tree { orders(first: 5) { totalCount nodes { number } } }", "operationName": "Tree"}


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of a scrape (0 when it is absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" ([0-9.e+-]+)"
    found = re.search(f"^{pattern}$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_one_json_access_line_per_request_with_the_clients_request_id(database_url, admin_token, tmp_path) -> None:
    log = tmp_path / "api.log"
    with (
        log.open("wb") as written,
        served(database_url, log=written, CHARGECARS_LOG_LEVEL="info", CHARGECARS_LOG_FORMAT="json") as api,
    ):
        headers = {"Authorization": f"Bearer {admin_token}", "X-Request-Id": "portal-7f3a-0001"}
        with httpx.Client(base_url=api.base_url, timeout=30) as http:
            answer = http.post("/graphql", json=TREE, headers=headers)
            assert answer.headers["x-request-id"] == "portal-7f3a-0001"
            bad = http.post("/graphql", json=TREE, headers={**headers, "X-Request-Id": "no spaces allowed"})
            assert re.fullmatch(r"[0-9a-f]{32}", bad.headers["x-request-id"])
    lines = [json.loads(line) for line in log.read_text().splitlines()]  # every line is JSON
    access = [line for line in lines if line.get("logger") == "chargecars.access" and line["path"] == "/graphql"]
    assert len(access) == 2
    first = access[0]
    assert first["request_id"] == "portal-7f3a-0001" and first["event"] == "request"
    assert (first["method"], first["status"], first["outcome"]) == ("POST", 200, "ok")
    assert first["operation"] == "query Tree: orders"
    assert first["sql_statements"] >= 2 and first["duration_ms"] > 0 and first["account"]
    assert {"timestamp", "level"} <= first.keys()
    assert access[1]["request_id"] == bad.headers["x-request-id"]
    assert any(line.get("logger", "").startswith("uvicorn") for line in lines)  # uvicorn's lines: the same format


async def test_metrics_count_requests_and_are_for_this_machine_or_a_token(engine, settings, admin_token) -> None:
    app = create_app(engine=engine, settings=settings)
    headers = {"Authorization": f"Bearer {admin_token}"}
    local = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
    async with httpx.AsyncClient(transport=local, base_url="http://testserver") as http:
        before = (await http.get("/metrics")).text
        for _ in range(3):
            assert (await http.post("/graphql", json=TREE, headers=headers)).status_code == 200
        await http.post("/graphql", json={"query": "{ nope }"}, headers=headers)
        scrape = await http.get("/metrics")
    assert scrape.status_code == 200 and scrape.headers["content-type"].startswith("text/plain")
    text = scrape.text
    ok = {"operation": "query Tree: orders", "outcome": "ok"}
    assert _sample(text, "chargecars_requests_total", **ok) - _sample(before, "chargecars_requests_total", **ok) == 3
    assert _sample(text, "chargecars_requests_total", operation="query nope", outcome="errors") >= 1
    assert _sample(text, "chargecars_request_duration_seconds_count", kind="graphql") >= 4
    assert _sample(text, "chargecars_sql_statements_per_request_count") >= 4
    for family in ("chargecars_db_pool_in_use", "chargecars_requests_running", "chargecars_requests_refused_total"):
        assert f"\n{family}" in text, family
    assert "# TYPE chargecars_jobs gauge" in text and "# TYPE chargecars_webhook_deliveries gauge" in text

    remote = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
    async with httpx.AsyncClient(transport=remote, base_url="http://testserver") as http:
        assert (await http.get("/metrics")).status_code == 404

    guarded = create_app(engine=engine, settings=settings.model_copy(update={"metrics_token": "s3cret-scrape"}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=guarded), base_url="http://testserver") as http:
        assert (await http.get("/metrics")).status_code == 404
        scrape = await http.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
        assert scrape.status_code == 200 and "chargecars_requests_total" in scrape.text


def test_two_workers_report_their_requests_together(database_url, admin_token) -> None:
    headers = {"Authorization": f"Bearer {admin_token}"}
    with served(database_url, workers=2) as api, httpx.Client(base_url=api.base_url, timeout=30) as http:
        for _ in range(12):  # on new connections: both workers take some
            assert httpx.post(f"{api.base_url}/graphql", json=TREE, headers=headers).status_code == 200
        scrapes = [http.get("/metrics").text for _ in range(4)]
    for text in scrapes:  # whichever worker answers the scrape: the sum of both
        assert _sample(text, "chargecars_requests_total", operation="query Tree: orders", outcome="ok") == 12


async def test_a_requests_statements_leave_its_transactions_setup_out(engine, sessions) -> None:
    """The viewer's setup and the plan mode's switches follow how many connections a request's
    batches happened to need: the count (`X-SQL-Statements`, the access line) leaves them out."""
    if not event.contains(engine.sync_engine, "before_cursor_execute", count_statement):
        event.listen(engine.sync_engine, "before_cursor_execute", count_statement)
    partner = Viewer(unrestricted=False, contact_id=uuid.uuid4(), root_id=uuid.uuid4(), partner=True)
    counted = observability._statements.set([0])
    try:
        async with sessions(info={"viewer": partner}) as session:
            await session.execute(by_keys(sql("SELECT 1")))  # after a switch to generic plans
            await session.execute(sql("SELECT 2"))  # and one back
        assert observability._statements.get() == [2]
    finally:
        observability._statements.reset(counted)
