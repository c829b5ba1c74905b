"""Admission control (`app/admission.py`): beyond the running requests and the queue, a request
is refused at once with a typed, retryable 503; a queued request that waits too long is refused
too; the running ones finish, and then requests pass again."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx

from app.asgi import create_app
from app.dbserver import asyncpg_dsn

QUERY = {"query": "{ orders(first: 1) { totalCount } }"}


async def _waiting_for_lock(conn: asyncpg.Connection, count: int) -> None:
    for _ in range(250):
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        if await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the request did not start")


async def test_a_full_queue_refuses_at_once_and_a_long_wait_is_refused(
    engine, settings, admin_token, database_url
) -> None:
    limits = {"max_active_requests": 1, "max_queued_requests": 1, "queue_timeout_seconds": 1.0}
    app = create_app(engine=engine, settings=settings.model_copy(update=limits))
    headers = {"Authorization": f"Bearer {admin_token}"}
    holder = await asyncpg.connect(**asyncpg_dsn(database_url))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=headers, timeout=30
        ) as http:
            async with holder.transaction():
                await holder.execute("LOCK TABLE sales_order IN ACCESS EXCLUSIVE MODE")
                running = asyncio.create_task(http.post("/graphql", json=QUERY))
                await _waiting_for_lock(holder, 1)
                queued = asyncio.create_task(http.post("/graphql", json=QUERY))
                await asyncio.sleep(0.05)

                started = time.monotonic()
                refused = await http.post("/graphql", json=QUERY)  # no place running, none queued
                assert time.monotonic() - started < 0.5
                assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
                assert refused.json() == {
                    "data": None,
                    "errors": [
                        {
                            "message": "The server is at capacity; nothing was run. Try again shortly.",
                            "extensions": {
                                "code": "SERVICE_UNAVAILABLE",
                                "retryable": True,
                                "retryAfterSeconds": 5,
                                "reason": "overloaded",
                            },
                        }
                    ],
                }
                # the queued request waited its second, then was refused; nothing of it ran
                late = await queued
                assert late.status_code == 503 and late.json()["errors"][0]["extensions"]["reason"] == "overloaded"
                assert not running.done()
            first = await running
            assert first.status_code == 200 and first.json()["data"] == {"orders": {"totalCount": 0}}
            again = await http.post("/graphql", json=QUERY)
            assert again.status_code == 200
    finally:
        await holder.close()
    admission = app.state.chargecars.admission
    assert (admission.refused, admission.running, admission.waiting) == (2, 0, 0)


async def test_health_checks_are_never_queued(engine, settings) -> None:
    limits = {"max_active_requests": 1, "max_queued_requests": 0}
    app = create_app(engine=engine, settings=settings.model_copy(update=limits))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        async with app.state.chargecars.admission.turn():  # the only place taken
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/readyz")).status_code == 200
            assert (await http.post("/graphql", json=QUERY)).status_code == 503
