"""Before/after figures for an optimisation: queries 1–3 in-process (no HTTP server, no
client scheduling) on the benchmark dataset, and the SQL floor of query 1; prints the minimum
and the median of N requests of each. `--rls both` measures each query twice on the same data,
with row-level security and without it (transactions left as the owner), alternating.

    python -m bench.measure --scale 0.2 --requests 20
    python -m bench.measure --scale 1 --requests 30 --queries 2 --rls both
"""

from __future__ import annotations

import argparse
import asyncio
import time

from app import db
from app.dbserver import drop_database
from bench.driver import Cell, in_process, measure_floor
from bench.operations import PAGE, prepare, read_operations


def _min_and_median(cell: Cell) -> dict[str, float]:
    row = cell.row()
    return {"min_ms": row["min_ms"], "median_ms": row["p50_ms"]}


async def measure(scale: float, requests: int, queries: str, rls: str = "on") -> dict[str, dict[str, float]]:
    url, data, tokens = await prepare(scale)
    figures = {}
    modes = {"on": [db.API_ROLE], "off": ["none"], "both": [db.API_ROLE, "none"]}[rls]
    try:
        async with in_process(url) as once:
            for op in read_operations(data, tokens):
                if op.name[0] not in queries:
                    continue
                cells = {role: Cell(workers=0, concurrency=1, operation=op.name) for role in modes}
                for role in modes:
                    db.API_ROLE = role
                    for _ in range(3):  # connections, prepared statements, caches
                        await once(op)
                for _ in range(requests):
                    for role, cell in cells.items():  # alternating, so both see the same machine
                        db.API_ROLE = role
                        started = time.perf_counter()
                        await once(op)
                        cell.latencies_ms.append((time.perf_counter() - started) * 1000)
                for role, cell in cells.items():
                    name = op.name if role != "none" else f"{op.name} (no row-level security)"
                    figures[name] = _min_and_median(cell)
                    print(name, figures[name], flush=True)
        figures["SQL floor (query 1)"] = _min_and_median(await measure_floor(url, 0, requests, PAGE))
    finally:
        await drop_database(url)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--queries", default="123", help="which of queries 1–3 (default all: 123)")
    parser.add_argument(
        "--rls",
        choices=("on", "off", "both"),
        default="on",
        help="row-level security: on (as served), off, or both alternating",
    )
    args = parser.parse_args()
    print(asyncio.run(measure(args.scale, args.requests, args.queries, args.rls)))


if __name__ == "__main__":
    main()
