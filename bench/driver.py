"""Driving the operations: cells of requests and their figures, the SQL floor, the app in-process."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import URL

from app.asgi import create_app
from app.config import Settings
from app.dbserver import asyncpg_dsn
from bench.floor import FRONTEND_ORDER_TREE_SQL
from bench.operations import READS, Operation


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


@contextlib.asynccontextmanager
async def in_process(url: URL) -> AsyncIterator[Callable[[Operation], Awaitable[dict[str, Any]]]]:
    """The app in this process (no server, no client scheduling): runs one request of an
    operation and returns its body; the caller warms it up."""
    # the partner's requests are repeated far beyond a partner's calls per minute
    settings = Settings.from_env().model_copy(update={"log_level": "warning", "partner_rate_limit": 1_000_000})
    app = create_app(url=url, settings=settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=300
    ) as client:

        async def once(op: Operation) -> dict[str, Any]:
            response = await client.post(
                "/graphql", json=op.payload(0), headers={"Authorization": f"Bearer {op.token}"}
            )
            response.raise_for_status()
            body = response.json()
            assert not body.get("errors"), response.text[:500]
            op.after(0, body)
            return body

        yield once
