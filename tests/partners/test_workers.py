"""The job engine with real worker processes: two workers on one database attempt each delivery
once per retry slot and never twice at once; a worker killed mid-delivery loses nothing; an API
killed mid-write leaves every committed change with its event and job, and nothing else."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import defaultdict

import httpx
import orjson
from sqlalchemy import text

from app.jobs import queue
from app.jobs.queue import JobContext
from app.outbox.service import dispatch
from app.partners.webhooks import DELIVER
from app.serving import served, worker_process
from tests.factories import brand_id, gid
from tests.partners.receiver import receiving
from tests.partners.support import INTAKE, order_input
from tests.support.api import CREATE_ORDER, change, gql
from tests.support.jobs import all_settled, fast_env, until, worker

ORDERS = 6


async def _attempts(sessions) -> dict[str, list]:
    """Each delivery's attempts (by event id), in order."""
    async with sessions() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT d.event_id, d.status, d.attempts, a.attempt, a.started_at, a.finished_at, a.status_code, "
                    "a.error, a.worker FROM webhook_delivery d JOIN webhook_attempt a ON a.delivery_id = d.id "
                    "ORDER BY d.event_id, a.attempt"
                )
            )
        ).all()
    found: dict[str, list] = defaultdict(list)
    for row in rows:
        found[str(row.event_id)].append(row)
    return found


async def test_two_worker_processes_attempt_each_delivery_once_per_slot_never_at_once(
    client, sessions, settings, database_url, essent, admin_token
) -> None:
    setup, dealer = essent
    async with receiving(script=["500"] * 4, delay=0.4) as receiver:
        await setup(receiver.url)
        for n in range(ORDERS):
            answer = await gql(client, INTAKE, {"input": order_input(f"ESS-{n}")}, token=dealer)
            order = answer["createOrderFromPartner"]["order"]
            assert (await change(client, admin_token, order["id"], "quoted"))["__typename"] == "ChangeStatusSuccess"

        # The events fanned out here, then every delivery given a second job, as a redelivery
        # racing the first would: both workers then hold jobs of the same deliveries at once.
        async with sessions() as session:
            events = (await session.scalars(text("SELECT id FROM outbox_event ORDER BY id"))).all()
        async with httpx.AsyncClient() as http:
            for event in events:
                await dispatch(JobContext(sessions, settings, http), {"event": event})
        async with sessions() as session, session.begin():
            deliveries = (await session.scalars(text("SELECT id FROM webhook_delivery"))).all()
            for delivery in deliveries:
                await queue.enqueue(session, DELIVER, {"delivery": str(delivery)})
        assert len(deliveries) == 2 * ORDERS

        env = fast_env(job_concurrency=4, webhook_timeout_seconds=3.0, job_heartbeat_seconds=5.0)
        with worker_process(database_url, **env) as one, worker_process(database_url, **env) as two:
            await until(lambda: all_settled(sessions))
            workers = {f":{one.pid}", f":{two.pid}"}

    attempts = await _attempts(sessions)
    assert len(attempts) == 2 * ORDERS
    requests: defaultdict[str, int] = defaultdict(int)
    for request in receiver.received:
        requests[request.headers["chargecars-event-id"]] += 1
    for event_id, rows in attempts.items():
        assert {r.status for r in rows} == {"delivered"}
        assert [r.attempt for r in rows] == list(range(1, rows[0].attempts + 1)), "one attempt per slot"
        assert requests[event_id] == len(rows), "each attempt is one request, none unrecorded"
        for earlier, later in zip(rows, rows[1:], strict=False):
            assert earlier.finished_at <= later.started_at, "an attempt starts after the one before ended"
        assert all(r.error is None or r.error == "HTTP 500" for r in rows), "no attempt was lost"
    assert max(receiver.most_at_once.values()) == 1, "never two requests of one event at once"
    assert sum(len(rows) for rows in attempts.values()) == 2 * ORDERS + 4
    made_by = {r.worker[r.worker.rindex(":") :] for rows in attempts.values() for r in rows}
    assert made_by == workers, "both workers delivered"


async def test_a_worker_killed_mid_delivery_loses_nothing(client, sessions, database_url, essent, admin_token) -> None:
    setup, dealer = essent
    async with receiving(script=["timeout"]) as receiver:
        await setup(receiver.url, events=["order.created"])
        await gql(client, INTAKE, {"input": order_input()}, token=dealer)
        env = fast_env(webhook_timeout_seconds=3.0)
        with worker_process(database_url, **env) as first:
            deadline = time.monotonic() + 60
            while not receiver.received:  # the first attempt is under way
                assert time.monotonic() < deadline, "the first worker never delivered"
                await asyncio.sleep(0.02)
            first.send_signal(signal.SIGKILL)
            first.wait()
        async with sessions() as session:
            status = await session.scalar(text("SELECT status FROM webhook_delivery"))
        assert status == "delivering", "killed with its attempt open"

        with worker_process(database_url, **env) as second:
            await until(lambda: all_settled(sessions))

    [rows] = (await _attempts(sessions)).values()
    assert [(r.attempt, r.status_code, r.error) for r in rows] == [
        (1, None, "the worker was lost during this attempt"),
        (2, 200, None),
    ]
    assert [r.worker.split(":")[-1] for r in rows] == [str(first.pid), str(second.pid)]
    assert rows[0].status == "delivered"
    bodies = [r.body for r in receiver.received]
    assert len(bodies) == 2 and bodies[0] == bodies[1], "the same event, the same body"


async def test_an_api_killed_mid_write_keeps_each_committed_change_with_its_event(
    sessions, settings, database_url, demo, admin_token
) -> None:
    """Orders created by many clients at once while the API process is killed: each order that
    exists has its one `order.created` event and its dispatch job, every answered order exists,
    and a worker then dispatches every event."""
    contacts, _ = demo
    brand = gid("BusinessEntity", await brand_id(sessions, "CC"))
    variables = {"input": {"businessEntityId": brand, "accountContactId": gid("Contact", contacts["Eva de Vries"].id)}}
    answered: list[str] = []
    with served(database_url) as api:
        async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as http:

            async def create() -> None:
                while True:
                    try:
                        response = await http.post(
                            "/graphql",
                            json={"query": CREATE_ORDER, "variables": variables},
                            headers={"Authorization": f"Bearer {admin_token}"},
                        )
                    except httpx.HTTPError:
                        return  # the server is gone
                    created = (orjson.loads(response.content).get("data") or {}).get("createOrder") or {}
                    assert created.get("__typename") == "OrderSuccess", created
                    answered.append(created["order"]["number"])

            writers = [asyncio.create_task(create()) for _ in range(12)]
            await until(lambda: _at_least(answered, 30))
            api.process.send_signal(signal.SIGKILL)
            await asyncio.gather(*writers)

    async with sessions() as session:
        orders = set((await session.scalars(text("SELECT number FROM sales_order"))).all())
        per_order = (
            await session.execute(
                text(
                    "SELECT o.number, count(e.id) AS events FROM sales_order o "
                    "LEFT JOIN outbox_event e ON e.order_id = o.id AND e.event_type = 'order.created' "
                    "GROUP BY o.number"
                )
            )
        ).all()
        orphans = await session.scalar(
            text(
                "SELECT count(*) FROM outbox_event e "
                "WHERE NOT EXISTS (SELECT FROM sales_order o WHERE o.id = e.order_id)"
            )
        )
        jobs = await session.scalar(text("SELECT count(*) FROM pgqueuer WHERE entrypoint = 'outbox.dispatch'"))
    assert set(answered) <= orders, "every order the API answered for is there"
    assert {row.events for row in per_order} == {1}, "each order has exactly one creation event"
    assert orphans == 0 and jobs == len(orders), "no event without its change, no event without its job"

    async with worker(database_url, settings):
        await until(lambda: all_settled(sessions))
    async with sessions() as session:
        dispatched = await session.scalar(text("SELECT count(*) FROM outbox_event WHERE dispatched_at IS NOT NULL"))
    assert dispatched == len(orders)


async def _at_least(items: list[str], count: int) -> bool:
    return len(items) >= count
