"""`make bench`: generate the dataset, serve it with uvicorn, drive the query mix at several
concurrencies and worker counts, measure the SQL floor, write the report.

    python -m bench.run --scale 1 --seconds 8 --report docs/benchmark-results.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from app.dbserver import drop_database
from app.serving import served
from bench.driver import Cell, drive, measure_floor, statement_growth
from bench.operations import READS, ROOT, operations, prepare, write_state
from bench.report import report
from bench.server import cpu_seconds, machine, rss_mb


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
            # the partner's portal is driven far beyond a partner's calls per minute; every client
            # of the highest concurrency finds a place in the queue (shedding load is measured by
            # bench/overload.py, not here)
            with served(
                url,
                workers=workers,
                CHARGECARS_SQL_COUNT_HEADER="on",
                CHARGECARS_PARTNER_RATE_LIMIT="1000000",
                CHARGECARS_MAX_QUEUED_REQUESTS=str(2 * max(concurrencies)),
                CHARGECARS_QUEUE_TIMEOUT_SECONDS="120",
            ) as server:
                process = psutil.Process(server.process.pid)
                async with httpx.AsyncClient(
                    base_url=server.base_url, timeout=300, limits=httpx.Limits(max_connections=max(concurrencies) + 4)
                ) as client:
                    for concurrency in concurrencies:
                        ops = operations(data, tokens, state, concurrency, rng, args.page)
                        if not growth:
                            growth = await statement_growth(server.base_url, ops)
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
