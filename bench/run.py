"""`make bench`: generate the dataset, serve it with uvicorn, drive the query mix at several
concurrencies and worker counts, measure the SQL floor, write the report.

    python -m bench.run --scale 1 --seconds 8 --report docs/benchmark-results.md
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from sqlalchemy import text
from sqlalchemy.engine import URL

from app import migrate
from app.accounts import service as accounts
from app.accounts.models import Role
from app.asgi import create_app
from app.audit.service import Actor
from app.config import Settings
from app.db import create_engine, session_factory
from app.dbserver import asyncpg_dsn, drop_database, ensure_database, start_embedded, to_asyncpg_url
from app.status import engine as status_engine
from bench.floor import FRONTEND_ORDER_TREE_SQL
from bench.generate import Dataset, generate, summary
from graphql_schema.node import global_id

ROOT = Path(__file__).resolve().parent.parent
QUERIES = Path(__file__).resolve().parent / "queries"
BENCH_ACTOR = Actor(account_id=None, system="bench")
PAGE = 50
READS = 5  # operations() lists the reads first (queries 1–3, the scoped twin of 1, the customer's), then the writes


def bench_database_url() -> URL:
    """A database of its own: on DATABASE_URL's server, else on an embedded server in
    `.pgdata-bench` (CHARGECARS_BENCH_DATA_DIR); never the `make run` database."""
    if os.environ.get("DATABASE_URL"):
        server = to_asyncpg_url(os.environ["DATABASE_URL"])
    else:
        server = start_embedded(Path(os.environ.get("CHARGECARS_BENCH_DATA_DIR", ROOT / ".pgdata-bench")))
    return server.set(database=f"{server.database or 'chargecars'}_bench")


def load_query(name: str) -> str:
    source = (QUERIES / name).read_text()
    if "...OrderTree" in source:
        source += "\n" + (QUERIES / "order_tree.fragment.graphql").read_text()
    return source


# --- the operations --------------------------------------------------------------------------


@dataclass
class Operation:
    name: str
    token: str
    payload: Callable[[int], dict[str, Any]]
    after: Callable[[int, dict[str, Any]], None] = lambda worker, body: None


async def make_tokens(url: URL, data: Dataset) -> dict[str, str]:
    db = create_engine(url)
    tokens = {}
    async with session_factory(db)() as session, session.begin():
        # the customer with the most orders (as account or end customer): the customer portal's viewer
        customer = (
            await session.execute(
                text(
                    "SELECT p.contact_id FROM order_party p JOIN contact c ON c.id = p.contact_id "
                    "WHERE c.contact_type = 'person' AND c.parent_organization_id IS NULL "
                    "GROUP BY p.contact_id ORDER BY count(*) DESC, p.contact_id LIMIT 1"
                )
            )
        ).scalar_one()
        viewers = {
            "admin": ((Role.ADMIN,), None),
            "partner": ((Role.PARTNER,), data.staff[data.top_partner][0]),
            "analyst": ((Role.STAFF,), None),
            "customer": ((Role.CUSTOMER,), customer),
        }
        for key, (roles, contact) in viewers.items():
            account = await accounts.create_account(
                session=session,
                actor=BENCH_ACTOR,
                account_in=accounts.AccountCreate(
                    email=f"{key}-{uuid.uuid4().hex[:8]}@bench.example",
                    display_name=f"Bench {key}",
                    roles=roles,
                    contact_id=contact,
                ),
            )
            _, tokens[key] = await accounts.issue_token(
                session=session, account_id=account.id, label="bench", expires_at=None, actor=BENCH_ACTOR
            )
    await db.dispose()
    return tokens


@dataclass
class WriteState:
    """What the write operations pick from: orders that can still move, their workflows, brands."""

    orders: list[tuple[uuid.UUID, str, uuid.UUID]]
    workflows: dict[uuid.UUID, status_engine.Workflow]
    brands: list[uuid.UUID]


async def write_state(url: URL) -> WriteState:
    db = create_engine(url)
    async with session_factory(db)() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT s.entity_id, s.status, s.workflow_id FROM entity_current_status s "
                    "JOIN status_workflow_step st ON st.workflow_id = s.workflow_id AND st.status_name = s.status "
                    "WHERE s.entity_type = 'order' AND NOT st.is_final AND st.step_type = 'normal' ORDER BY s.entity_id"
                )
            )
        ).all()
        workflows = await status_engine.workflows_of_many(session=session, ids=list({r.workflow_id for r in rows}))
        brands = list((await session.execute(text("SELECT id FROM business_entity ORDER BY code"))).scalars())
    await db.dispose()
    return WriteState([(r.entity_id, r.status, r.workflow_id) for r in rows], workflows, brands)


def operations(
    data: Dataset, tokens: dict[str, str], state: WriteState, concurrency: int, rng: random.Random, page: int = PAGE
) -> list[Operation]:
    tree, portal, analyst, customer = (
        load_query(n)
        for n in (
            "1_frontend_order_tree.graphql",
            "2_partner_portal.graphql",
            "3_analyst_descendants.graphql",
            "5_customer_portal.graphql",
        )
    )
    change, create = load_query("4a_change_status.graphql"), load_query("4b_create_order.graphql")
    # each client task moves its own orders, so that the tasks do not race for one order
    mine: dict[int, list[list[Any]]] = {i: [] for i in range(concurrency)}
    workflows = state.workflows
    for index, (order_id, status, workflow_id) in enumerate(state.orders):
        mine[index % concurrency].append([order_id, status, workflow_id])
    pending: dict[int, tuple[list[Any], str]] = {}

    def change_payload(worker: int) -> dict[str, Any]:
        entry = rng.choice(mine[worker])
        targets = status_engine.workflow_targets(workflows[entry[2]], entry[1])
        # keep orders moving rather than finishing them: a final step only when nothing else is left
        target = rng.choice([t for t in targets if not t.is_final] or targets).status_name
        pending[worker] = (entry, target)
        return {
            "query": change,
            "variables": {
                "input": {
                    "entityType": "ORDER",
                    "entityId": global_id("Order", entry[0]),
                    "toStatus": target,
                    "expectedStatus": entry[1],
                }
            },
        }

    def change_after(worker: int, body: dict[str, Any]) -> None:
        entry, target = pending.pop(worker)
        if body["data"]["changeStatus"]["__typename"] == "ChangeStatusSuccess":
            entry[1] = target
            if not status_engine.workflow_targets(workflows[entry[2]], target):
                mine[worker].remove(entry)

    organisations = [o for level in data.organisations[2:] for o in level] or [
        o for level in data.organisations for o in level
    ]

    def create_payload(worker: int) -> dict[str, Any]:
        start = rng.choice(organisations)
        chain = [start, *data.upline(start)][: rng.randint(0, 4)]
        return {
            "query": create,
            "variables": {
                "input": {
                    "businessEntityId": global_id("BusinessEntity", rng.choice(state.brands)),
                    "accountContactId": global_id("Contact", chain[0] if chain else rng.choice(data.customers)),
                    "endCustomerContactId": global_id("Contact", rng.choice(data.customers)),
                    "channelContactIds": [global_id("Contact", c) for c in chain],
                }
            },
        }

    top = global_id("Contact", data.top_partner)
    return [
        Operation("1 frontend order tree", tokens["admin"], lambda w: {"query": tree, "variables": {"first": page}}),
        # the same request under the partner's visibility: the pair shows what scoping costs
        Operation(
            "1s frontend order tree, partner-scoped",
            tokens["partner"],
            lambda w: {"query": tree, "variables": {"first": page}},
        ),
        Operation("2 partner portal", tokens["partner"], lambda w: {"query": portal, "variables": {"first": page}}),
        Operation(
            "3 analyst descendants",
            tokens["analyst"],
            lambda w: {"query": analyst, "variables": {"partner": top, "first": page}},
        ),
        Operation("5 customer portal", tokens["customer"], lambda w: {"query": customer, "variables": {"first": page}}),
        Operation("4a changeStatus", tokens["admin"], change_payload, change_after),
        Operation("4b createOrder", tokens["admin"], create_payload),
    ]


# --- the driver ------------------------------------------------------------------------------


@dataclass
class Cell:
    workers: int
    concurrency: int
    operation: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    statements: list[int] = field(default_factory=list, repr=False)
    sizes: list[int] = field(default_factory=list, repr=False)
    server_rss_mb: float = 0.0
    server_cpu_ms: float = 0.0
    """Server CPU time (user + system, all its processes) per request: on a VM that counts
    stolen time as running, an upper bound."""

    def percentile(self, p: float) -> float:
        values = sorted(self.latencies_ms)
        return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else 0.0

    def row(self) -> dict[str, Any]:
        return {
            "workers": self.workers,
            "concurrency": self.concurrency,
            "operation": self.operation,
            "requests": self.requests,
            "errors": self.errors,
            "req_per_s": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "min_ms": round(min(self.latencies_ms), 1) if self.latencies_ms else 0.0,
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
            "sql_per_request": round(statistics.mean(self.statements), 1) if self.statements else 0,
            "response_bytes": round(statistics.mean(self.sizes)) if self.sizes else 0,
            "server_rss_mb": round(self.server_rss_mb, 1),
            "server_cpu_ms": round(self.server_cpu_ms, 1),
        }


def _goes_on(done: int, deadline: float, seconds: float, max_requests: int | None) -> bool:
    """Another request? Under the cap, and before the deadline unless the cell is capped only
    (`seconds` 0)."""
    if max_requests is not None and done >= max_requests:
        return False
    return (seconds == 0 and max_requests is not None) or time.perf_counter() < deadline


async def drive(client: httpx.AsyncClient, op: Operation, cell: Cell, seconds: float, max_requests: int | None) -> None:
    deadline = time.perf_counter() + seconds
    issued = 0

    async def worker(index: int) -> None:
        nonlocal issued
        while _goes_on(issued, deadline, seconds, max_requests):
            issued += 1
            payload = op.payload(index)
            started = time.perf_counter()
            try:
                response = await client.post("/graphql", json=payload, headers={"Authorization": f"Bearer {op.token}"})
            except httpx.TransportError:  # counted, not fatal: the cell reports its errors
                cell.requests += 1
                cell.errors += 1
                continue
            elapsed = (time.perf_counter() - started) * 1000
            cell.requests += 1
            cell.latencies_ms.append(elapsed)
            cell.sizes.append(len(response.content))
            cell.statements.append(int(response.headers.get("x-sql-statements", "0")))
            body = response.json() if response.status_code == 200 else None  # a 503 need not be JSON
            if body is None or body.get("errors"):
                cell.errors += 1
                continue
            op.after(index, body)

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(cell.concurrency)))
    cell.seconds = time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tree(process: psutil.Process) -> list[psutil.Process]:
    return [process, *process.children(recursive=True)]


def cpu_seconds(process: psutil.Process) -> float:
    total = 0.0
    for p in _tree(process):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = p.cpu_times()
            total += times.user + times.system
    return total


def rss_mb(process: psutil.Process) -> float:
    total = 0
    for p in _tree(process):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total / 2**20


async def start_server(url: URL, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "CHARGECARS_SQL_COUNT_HEADER": "on",
        "CHARGECARS_LOG_LEVEL": "warning",
    }
    server = subprocess.Popen(  # noqa: ASYNC220 - starts the server and returns; nothing waits on it here
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "app.asgi:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
            # a worker busy with 32 concurrent trees can miss uvicorn's default 5 s health ping and be
            # killed mid-request by its supervisor (it happened here): the bench measures the app
            "--timeout-worker-healthcheck",
            "120",
        ],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(600):
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return server, base
            except httpx.TransportError:
                pass
            if server.poll() is not None:
                raise RuntimeError("the server did not start")
            await asyncio.sleep(0.1)
    server.terminate()
    raise RuntimeError("the server did not become ready")


async def measure_floor(url: URL, seconds: float, max_requests: int | None, page: int) -> Cell:
    cell = Cell(workers=0, concurrency=1, operation="SQL floor (query 1, asyncpg)")
    conn = await asyncpg.connect(**asyncpg_dsn(url), server_settings={"jit": "off"})
    try:
        for _ in range(5):
            await conn.fetchval(FRONTEND_ORDER_TREE_SQL, page)
        started = time.perf_counter()
        while _goes_on(cell.requests, started + seconds, seconds, max_requests):
            t0 = time.perf_counter()
            body = await conn.fetchval(FRONTEND_ORDER_TREE_SQL, page)
            cell.latencies_ms.append((time.perf_counter() - t0) * 1000)
            cell.sizes.append(len(body.encode()))
            cell.statements.append(1)
            cell.requests += 1
        cell.seconds = time.perf_counter() - started
    finally:
        await conn.close()
    return cell


async def statement_growth(base: str, ops: list[Operation]) -> list[dict[str, Any]]:
    """Queries 1–3 at page sizes 10 and 100: the statement count must not grow."""
    rows = []
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        for op in ops[:READS]:  # a token's first use also writes its last_used_at: not counted
            await client.post(
                "/graphql", json={"query": "{ viewer { roles } }"}, headers={"Authorization": f"Bearer {op.token}"}
            )
            counts = {}
            for first in (10, 100):
                payload = op.payload(0)
                payload["variables"]["first"] = first
                response = await client.post("/graphql", json=payload, headers={"Authorization": f"Bearer {op.token}"})
                assert not response.json().get("errors"), response.text[:500]
                counts[first] = int(response.headers["x-sql-statements"])
            rows.append({"operation": op.name, "first_10": counts[10], "first_100": counts[100]})
    return rows


async def prepare(scale: float, seed: int = 1) -> tuple[URL, Dataset, dict[str, str]]:
    """A new benchmark database: migrated, loaded, with a token per viewer."""
    url = bench_database_url()
    await drop_database(url)
    await ensure_database(url)
    await asyncio.to_thread(migrate.upgrade, url, configure_logging=False)  # Alembic runs its own loop
    data = await generate(url, scale=scale, seed=seed)
    print(f"dataset: {summary(data)}", flush=True)
    return url, data, await make_tokens(url, data)


@contextlib.asynccontextmanager
async def in_process(url: URL) -> AsyncIterator[Callable[[Operation], Awaitable[None]]]:
    """The app in this process (no server, no client scheduling): runs one request of an
    operation; the caller warms it up."""
    settings = dataclasses.replace(Settings.from_env(), log_level="warning")
    app = create_app(url=url, settings=settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=300
    ) as client:

        async def once(op: Operation) -> None:
            response = await client.post(
                "/graphql", json=op.payload(0), headers={"Authorization": f"Bearer {op.token}"}
            )
            response.raise_for_status()
            assert not response.json().get("errors"), response.text[:500]

        yield once


def read_operations(data: Dataset, tokens: dict[str, str], page: int = PAGE) -> list[Operation]:
    """Queries 1–3 (the reads)."""
    return operations(data, tokens, WriteState([], {}, []), 1, random.Random(0), page)[:READS]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    url, data, tokens = await prepare(args.scale, args.seed)
    state = await write_state(url)
    rng = random.Random(args.seed)
    cells: list[Cell] = []
    growth: list[dict[str, Any]] = []
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    # The floor and every read cell see the generated data as it is: the writes (whose new orders
    # would become the newest, i.e. the first page) run after all reads.
    floor = await measure_floor(url, args.seconds, args.requests, args.page)
    print(json.dumps(floor.row()), flush=True)
    for reads in (True, False):
        for workers in [int(w) for w in args.workers.split(",")]:
            server, base = await start_server(url, workers)
            try:
                process = psutil.Process(server.pid)
                async with httpx.AsyncClient(
                    base_url=base, timeout=300, limits=httpx.Limits(max_connections=max(concurrencies) + 4)
                ) as client:
                    for concurrency in concurrencies:
                        ops = operations(data, tokens, state, concurrency, rng, args.page)
                        if not growth:
                            growth = await statement_growth(base, ops)
                        for op in ops[:READS] if reads else ops[READS:]:
                            warm = Cell(workers, concurrency, op.name)
                            await drive(client, op, warm, 0, args.warmup)
                            cell = Cell(workers, concurrency, op.name)
                            cpu_before = cpu_seconds(process)
                            await drive(client, op, cell, args.seconds, args.requests)
                            cell.server_cpu_ms = (cpu_seconds(process) - cpu_before) * 1000 / max(cell.requests, 1)
                            cell.server_rss_mb = rss_mb(process)
                            cells.append(cell)
                            print(json.dumps(cell.row()), flush=True)
            finally:
                server.terminate()
                server.wait(timeout=30)
    cells.sort(key=lambda c: (c.workers, c.concurrency, c.operation))
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": await machine(url),
        "dataset": data.counts | {"scale": args.scale, "seed": args.seed},
        "settings": {
            "seconds_per_cell": args.seconds,
            "warmup_requests": args.warmup,
            "max_requests": args.requests,
            "page": args.page,
        },
        "cells": [c.row() for c in cells],
        "floor": floor.row(),
        "statement_growth": growth,
    }
    api = next((c for c in cells if c.workers == 1 and c.concurrency == 1 and c.operation.startswith("1 ")), None)
    if api is not None and floor.percentile(50):
        results["ratio_query1_p50"] = round(api.percentile(50) / floor.percentile(50), 2)
        results["ratio_query1_min"] = round(min(api.latencies_ms) / min(floor.latencies_ms), 2)
    if not args.keep_database:
        await drop_database(url)
    return results


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return platform.processor()
    models = (
        line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
    )
    return next(models, platform.processor())


async def machine(url: URL) -> dict[str, Any]:
    conn = await asyncpg.connect(**asyncpg_dsn(url))
    try:
        server_version = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    return {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python_loop_s": python_loop_seconds(),
        "python": platform.python_version(),
        "postgresql": server_version,
        "os": platform.platform(),
    }


def python_loop_seconds() -> float:
    """A calibration figure for the absolute numbers: seconds for 10 million integer additions
    in a plain Python loop on this machine."""
    started, total = time.perf_counter(), 0
    for i in range(10_000_000):
        total += i
    return round(time.perf_counter() - started, 2)


def report(results: dict[str, Any]) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {results['when']}; method and reading in docs/benchmarks.md.",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in results["machine"].items()),
        "",
        "Dataset: " + ", ".join(f"{k} {v}" for k, v in results["dataset"].items()),
        "",
        "Run: " + ", ".join(f"{k} {v}" for k, v in results["settings"].items()),
        "",
        "## SQL statements per request by page size (queries 1–3)",
        "",
        "| operation | first: 10 | first: 100 |",
        "|---|---:|---:|",
        *(f"| {g['operation']} | {g['first_10']} | {g['first_100']} |" for g in results["statement_growth"]),
        "",
        "## Query 1 against the SQL floor (concurrency 1)",
        "",
    ]
    floor = results["floor"]
    lines += [
        "| | min ms | p50 ms | p95 ms | p99 ms | response bytes |",
        "|---|---:|---:|---:|---:|---:|",
        f"| SQL floor: one statement, JSON built in PostgreSQL, asyncpg | {floor['min_ms']} | {floor['p50_ms']} | "
        f"{floor['p95_ms']} | {floor['p99_ms']} | {floor['response_bytes']} |",
    ]
    api = next(
        (
            c
            for c in results["cells"]
            if c["workers"] == 1 and c["concurrency"] == 1 and c["operation"].startswith("1 ")
        ),
        None,
    )
    if api:
        lines.append(
            f"| API, 1 worker | {api['min_ms']} | {api['p50_ms']} | {api['p95_ms']} | {api['p99_ms']} | "
            f"{api['response_bytes']} |"
        )

    if "ratio_query1_p50" in results:
        lines += [
            "",
            f"API / floor: **{results['ratio_query1_p50']}×** at p50, **{results['ratio_query1_min']}×** "
            "at the minimum (ratios: comparable across machines; the minimum is the one stalls cannot inflate).",
        ]
    single = {c["operation"].split(" ")[0]: c for c in results["cells"] if c["workers"] == 1 and c["concurrency"] == 1}
    pairs = [
        ("1s", "1", "the order tree partner-scoped / unscoped (same page, same shape)"),
        ("2", "1", "query 2 (partner portal) / query 1"),
        ("5", "1", "query 5 (customer portal) / query 1"),
    ]
    ratios = [
        (label, single[a]["min_ms"] / single[b]["min_ms"])
        for a, b, label in pairs
        if a in single and b in single and single[b]["min_ms"]
    ]
    if ratios:
        lines += [
            "",
            "## Visibility's cost (1 worker, concurrency 1, minima)",
            "",
            *(f"- {label}: **{ratio:.2f}×**" for label, ratio in ratios),
        ]
    lines += [
        "",
        "## Load (absolute figures: this machine only)",
        "",
        "| workers | concurrency | operation | requests | errors | req/s | min ms | p50 ms | p95 ms | p99 ms | "
        "SQL/request | bytes | server RSS MB | server CPU ms/request |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in results["cells"]:
        lines.append(
            f"| {c['workers']} | {c['concurrency']} | {c['operation']} | {c['requests']} | {c['errors']} | "
            f"{c['req_per_s']} | {c['min_ms']} | {c['p50_ms']} | {c['p95_ms']} | {c['p99_ms']} | "
            f"{c['sql_per_request']} | "
            f"{c['response_bytes']} | {c['server_rss_mb']} | {c['server_cpu_ms']} |"
        )
    return "\n".join(lines) + "\n"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--scale",
        type=float,
        default=float(os.environ.get("BENCH_SCALE", "1")),
        help="1 = 2,000 organisations, 10,000 persons, 50,000 orders (default; env BENCH_SCALE)",
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per cell (default 8)")
    parser.add_argument("--requests", type=int, default=None, help="at most this many requests per cell")
    parser.add_argument("--warmup", type=int, default=10, help="requests before each cell, not measured")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--page", type=int, default=50, help="orders per page in queries 1 and 2 (default 50)")
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "benchmark-results.md")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--keep-database", action="store_true", help="leave the benchmark database for profiling")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    results = asyncio.run(run(args))
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(report(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.report} and {args.json}")
    return results


if __name__ == "__main__":
    main()
