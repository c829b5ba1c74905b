"""`make bench-webhooks`: the outbox and webhook delivery measured (docs/benchmarks.md, "Webhooks").

    python -m bench.webhooks --scale 1 --report docs/benchmark-webhooks.md

On the benchmark's dataset, with every master distributor configured to hear its orders' creation
and status changes at a receiver on localhost (in this process: it answers 200 at once and notes
when each event arrived):

1. **The write path's cost**: `changeStatus` and `createOrder` run in this process (no server, no
   client scheduling), with the outbox's handlers subscribed and without them, in alternating
   rounds; minima and medians. With them, a change also writes its event and its dispatch job.
2. **Latency at rest**: one status change at a time through the API server, a pause after each,
   one worker; from the event (the changing transaction's start, `outbox_event.occurred_at`) to
   the receiver's receipt, so it includes the rest of that transaction (a few ms).
3. **Latency under write load**: the same, while `make bench`'s write operations (4a
   `changeStatus`, 4b `createOrder`) run at concurrency 8 against the server.
4. **Deliveries per second**: a backlog of events written at once (as the status engine writes
   them), then one worker, then two, each from a cold start; from the first receipt to the last.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import events
from app.db import create_engine, session_factory
from app.dbserver import drop_database
from app.outbox import service as outbox
from app.partners import service as partners
from app.serving import served, serving_here, worker_process
from bench.driver import Cell, drive, in_process
from bench.operations import BENCH_ACTOR, READS, ROOT, Operation, operations, prepare, write_state
from bench.report import header
from bench.server import machine


class Receiver:
    """Notes the first arrival of each event id (wall clock, comparable with the database's)."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.url = ""

    async def handle(self, request: Request) -> Response:
        await request.body()
        self.arrived.setdefault(request.headers.get("chargecars-event-id", ""), time.time())
        return Response(status_code=204)


@contextlib.asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    async with serving_here(Starlette(routes=[Route("/hooks", receiver.handle, methods=["POST"])])) as base:
        receiver.url = f"{base}/hooks"
        yield receiver


_engines: dict[str, AsyncEngine] = {}


def _sessions(url: URL) -> async_sessionmaker[AsyncSession]:
    """Sessions on the benchmark database: one engine for the whole run (`settled` polls)."""
    key = url.render_as_string(hide_password=False)
    if key not in _engines:
        _engines[key] = create_engine(url)
    return session_factory(_engines[key])


async def _dispose() -> None:
    for engine in _engines.values():
        await engine.dispose()
    _engines.clear()


async def configure(url: URL, endpoint: str, roots: list[uuid.UUID], brand: uuid.UUID) -> None:
    """Every master distributor hears its orders' creation and status changes at `endpoint`."""
    async with _sessions(url)() as session, session.begin():
        for root in roots:
            await partners.create_integration(
                session=session,
                organization_id=root,
                integration_in=partners.IntegrationIn(
                    business_entity_id=brand,
                    webhook_url=endpoint,
                    events=[outbox.ORDER_CREATED, outbox.ORDER_STATUS_CHANGED],
                ),
                actor=BENCH_ACTOR,
            )


async def sql(url: URL, statement: str, **params: Any) -> list[Any]:
    async with _sessions(url)() as session, session.begin():
        result = await session.execute(text(statement), params)
        return list(result.all()) if getattr(result, "returns_rows", False) else []


async def quiet_queue(url: URL) -> None:
    """Nothing left to deliver: the events so far marked dispatched, their jobs dropped."""
    await sql(url, "UPDATE outbox_event SET dispatched_at = now() WHERE dispatched_at IS NULL")
    await sql(url, "DELETE FROM pgqueuer")


async def settled(url: URL, since_event: int, within: float = 300) -> None:
    """Wait until every event after `since_event` is dispatched and its deliveries are done."""
    deadline = time.monotonic() + within
    while True:
        [row] = await sql(
            url,
            "SELECT (SELECT count(*) FROM outbox_event WHERE id > :e AND dispatched_at IS NULL) AS undispatched, "
            "(SELECT count(*) FROM webhook_delivery WHERE outbox_event_id > :e "
            " AND status NOT IN ('delivered', 'dead')) AS open",
            e=since_event,
        )
        if row.undispatched == 0 and row.open == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"not settled within {within} s: {row}")
        await asyncio.sleep(0.2)


async def last_event(url: URL) -> int:
    [row] = await sql(url, "SELECT coalesce(max(id), 0) AS id FROM outbox_event")
    return int(row.id)


async def latencies(url: URL, receiver: Receiver, since_event: int) -> dict[str, Any]:
    """Event to receipt, for the events after `since_event` that were delivered."""
    rows = await sql(
        url,
        "SELECT DISTINCT e.event_id, e.occurred_at FROM outbox_event e "
        "JOIN webhook_delivery d ON d.outbox_event_id = e.id AND d.status = 'delivered' WHERE e.id > :e",
        e=since_event,
    )
    ms = sorted((receiver.arrived[str(r.event_id)] - r.occurred_at.timestamp()) * 1000 for r in rows)
    return summary(ms)


def summary(ms: list[float]) -> dict[str, Any]:
    if not ms:
        return {"n": 0}
    ordered = sorted(ms)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 1)

    return {"n": len(ordered), "min_ms": round(ordered[0], 1), "p50_ms": pct(50), "p99_ms": pct(99), "max_ms": pct(100)}


# --- 1. the write path with and without the outbox -----------------------------------------------


async def write_cost(url: URL, writes: list[Operation], rounds: int, per_round: int) -> dict[str, Any]:
    handlers = outbox.subscriptions()
    found: dict[str, dict[str, list[float]]] = {op.name: {"with": [], "without": []} for op in writes}
    refused: Counter[str] = Counter()
    async with in_process(url) as once:
        for op in writes:  # warm both ways
            for _ in range(10):
                await once(op)
        for n in range(rounds):
            for mode in ("with", "without") if n % 2 == 0 else ("without", "with"):
                for event_type, handler in handlers:
                    if mode == "without":
                        events.unsubscribe(event_type, handler)
                try:
                    for op in writes:
                        for _ in range(per_round):
                            started = time.perf_counter()
                            body = await once(op)
                            elapsed = (time.perf_counter() - started) * 1000
                            [answer] = body["data"].values()
                            if answer["__typename"].endswith("Success"):  # a refusal writes nothing
                                found[op.name][mode].append(elapsed)
                            else:
                                refused[answer["__typename"]] += 1
                finally:
                    for event_type, handler in handlers:
                        events.subscribe(event_type, handler)
    return {name: _compared(modes) for name, modes in found.items()} | {"refused (not counted)": dict(refused)}


def _compared(modes: dict[str, list[float]]) -> dict[str, Any]:
    """Each mode's minimum and median, and their ratios (with / without)."""
    if not modes["with"] or not modes["without"]:
        return {mode: {"n": len(ms)} for mode, ms in modes.items()} | {"min_ratio": None, "p50_ratio": None}
    return {
        mode: {"n": len(ms), "min_ms": round(min(ms), 2), "p50_ms": round(statistics.median(ms), 2)}
        for mode, ms in modes.items()
    } | {
        "min_ratio": round(min(modes["with"]) / min(modes["without"]), 3),
        "p50_ratio": round(statistics.median(modes["with"]) / statistics.median(modes["without"]), 3),
    }


# --- 2 and 3. latency ------------------------------------------------------------------------------


async def at_rest(client: httpx.AsyncClient, change: Operation, count: int, pause: float) -> None:
    for _ in range(count):
        response = await client.post(
            "/graphql", json=change.payload(0), headers={"Authorization": f"Bearer {change.token}"}
        )
        body = response.json()
        if not body.get("errors"):
            change.after(0, body)
        await asyncio.sleep(pause)


async def under_load(client: httpx.AsyncClient, writes: list[Operation], seconds: float) -> list[dict[str, Any]]:
    cells = []
    for op in writes:
        cell = Cell(1, 8, op.name)
        await drive(client, op, cell, seconds, None)
        cells.append(cell.row())
    return cells


# --- 4. throughput ---------------------------------------------------------------------------------


async def backlog(url: URL, count: int) -> int:
    """`count` status-change events of orders the partners see, each with its dispatch job,
    committed at once; the last event id before them."""
    before = await last_event(url)
    orders = await sql(
        url,
        "SELECT DISTINCT r.order_id FROM order_reach r JOIN partner_integration i ON i.organization_id = r.ancestor_id "
        "ORDER BY r.order_id LIMIT :n",
        n=count,
    )
    async with _sessions(url)() as session, session.begin():
        for row in orders:
            await outbox.record(
                session,
                event_type=outbox.ORDER_STATUS_CHANGED,
                entity_type="order",
                entity_id=row.order_id,
                order_id=row.order_id,
                payload={"bench": True},
            )
    return before


async def throughput(url: URL, receiver: Receiver, workers: int, count: int) -> dict[str, Any]:
    since = await backlog(url, count)
    rows = await sql(url, "SELECT event_id FROM outbox_event WHERE id > :e", e=since)
    ids = [str(r.event_id) for r in rows]
    with contextlib.ExitStack() as stack:
        for _ in range(workers):
            stack.enter_context(worker_process(url, CHARGECARS_LOG_LEVEL="warning"))
        await settled(url, since)
    [deliveries] = await sql(url, "SELECT count(*) AS n FROM webhook_delivery WHERE outbox_event_id > :e", e=since)
    times = sorted(receiver.arrived[i] for i in ids if i in receiver.arrived)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    return {
        "workers": workers,
        "events": len(ids),
        "deliveries": int(deliveries.n),
        "seconds": round(span, 2),
        "deliveries_per_s": round((int(deliveries.n) - 1) / span, 1) if span else None,
        "per_worker_per_s": round((int(deliveries.n) - 1) / span / workers, 1) if span else None,
    }


# --- the run ---------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, Any]:
    url, data, tokens = await prepare(args.scale, args.seed)
    state = await write_state(url)
    rng = random.Random(args.seed)
    writes = operations(data, tokens, state, 8, rng)[READS:]
    change = operations(data, tokens, state, 1, random.Random(args.seed + 1))[READS]
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": await machine(url),
        "dataset": data.counts | {"scale": args.scale, "seed": args.seed},
    }
    async with receiving() as receiver:
        brand = state.brands[0]
        await configure(url, receiver.url, data.organisations[0], brand)

        results["write_cost"] = await write_cost(url, writes, args.rounds, args.per_round)
        print(json.dumps(results["write_cost"]), flush=True)
        await quiet_queue(url)

        with served(url) as api, worker_process(url, CHARGECARS_LOG_LEVEL="warning"):
            async with httpx.AsyncClient(base_url=api.base_url, timeout=120) as client:
                await at_rest(client, change, 10, args.pause)  # warm the server and the worker
                await settled(url, 0)
                since = await last_event(url)
                await at_rest(client, change, args.events, args.pause)
                await settled(url, since)
                results["at_rest"] = await latencies(url, receiver, since)
                print(json.dumps({"at_rest": results["at_rest"]}), flush=True)

                since = await last_event(url)
                results["load"] = await under_load(client, writes, args.seconds)
                await settled(url, since)
                results["under_load"] = await latencies(url, receiver, since)
                print(json.dumps({"under_load": results["under_load"], "load": results["load"]}), flush=True)

        results["throughput"] = [await throughput(url, receiver, n, args.backlog) for n in (1, 2)]
        print(json.dumps(results["throughput"]), flush=True)
    results["settings"] = {
        "rounds": args.rounds,
        "per_round": args.per_round,
        "events_at_rest": args.events,
        "pause_s": args.pause,
        "load_seconds_per_operation": args.seconds,
        "backlog": args.backlog,
    }
    await _dispose()
    if not args.keep_database:
        await drop_database(url)
    return results


def report(results: dict[str, Any]) -> str:
    lines = [
        *header("Webhook benchmark results", "make bench-webhooks", results, 'docs/benchmarks.md ("Webhooks")'),
        "## The write path with and without the outbox (in process, alternating rounds)",
        "",
        "| operation | without: min ms | p50 ms | with: min ms | p50 ms | with / without (min) | (p50) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, cost in results["write_cost"].items():
        if name.startswith("refused"):
            lines += ["", f"Answers other than success, not counted: {cost or 'none'}."]
            continue
        if cost["min_ratio"] is None:
            lines.append(f"| {name} | no successful request in one of the modes | | | | | |")
            continue
        lines.append(
            f"| {name} | {cost['without']['min_ms']} | {cost['without']['p50_ms']} | {cost['with']['min_ms']} | "
            f"{cost['with']['p50_ms']} | {cost['min_ratio']}× | {cost['p50_ratio']}× |"
        )
    lines += [
        "",
        "## Event to receipt (one worker)",
        "",
        "| | deliveries | min ms | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, label in (("at_rest", "at rest (one change at a time)"), ("under_load", "under the write load")):
        row = results[key]
        lines.append(
            f"| {label} | {row['n']} | {row.get('min_ms')} | {row.get('p50_ms')} | {row.get('p99_ms')} | "
            f"{row.get('max_ms')} |"
        )
    lines += [
        "",
        "The write load meanwhile (concurrency 8, one API worker):",
        "",
        "| operation | requests | errors | req/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {c['operation']} | {c['requests']} | {c['errors']} | {c['req_per_s']} | {c['p50_ms']} | {c['p99_ms']} |"
            for c in results["load"]
        ),
        "",
        "## Deliveries per second (a backlog, the receiver answering at once)",
        "",
        "| workers | events | deliveries | seconds | deliveries/s | per worker |",
        "|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {t['workers']} | {t['events']} | {t['deliveries']} | {t['seconds']} | {t['deliveries_per_s']} | "
            f"{t['per_worker_per_s']} |"
            for t in results["throughput"]
        ),
        "",
    ]
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds of the write-cost comparison")
    parser.add_argument("--per-round", type=int, default=40, help="requests of each write operation per round")
    parser.add_argument("--events", type=int, default=200, help="status changes for the latency at rest")
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between the changes at rest")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of each write operation under load")
    parser.add_argument("--backlog", type=int, default=2000, help="events of the throughput backlog")
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "benchmark-webhooks.md")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results-webhooks.json")
    parser.add_argument("--keep-database", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    results = asyncio.run(run(args))
    args.report.write_text(report(results))
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.report} and {args.json}")
    return results


if __name__ == "__main__":
    main()
