"""Before/after figures for an optimisation: queries 1–3 in-process (no HTTP server, no
client scheduling) on the benchmark dataset, and the SQL floor of query 1; prints the minimum
and the median of N requests of each.

    python -m bench.measure --scale 0.2 --requests 20
"""

from __future__ import annotations

import argparse
import asyncio
import time

from app.dbserver import drop_database
from bench.run import PAGE, Cell, in_process, measure_floor, prepare, read_operations


def _min_and_median(cell: Cell) -> dict[str, float]:
    row = cell.row()
    return {"min_ms": row["min_ms"], "median_ms": row["p50_ms"]}


async def measure(scale: float, requests: int, queries: str) -> dict[str, dict[str, float]]:
    url, data, tokens = await prepare(scale)
    figures = {}
    try:
        async with in_process(url) as once:
            for op in read_operations(data, tokens):
                if op.name[0] not in queries:
                    continue
                for _ in range(3):  # connections, prepared statements, caches
                    await once(op)
                cell = Cell(workers=0, concurrency=1, operation=op.name)
                for _ in range(requests):
                    started = time.perf_counter()
                    await once(op)
                    cell.latencies_ms.append((time.perf_counter() - started) * 1000)
                figures[op.name] = _min_and_median(cell)
                print(op.name, figures[op.name], flush=True)
        figures["SQL floor (query 1)"] = _min_and_median(await measure_floor(url, 0, requests, PAGE))
    finally:
        await drop_database(url)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--queries", default="123", help="which of queries 1–3 (default all: 123)")
    args = parser.parse_args()
    print(asyncio.run(measure(args.scale, args.requests, args.queries)))


if __name__ == "__main__":
    main()
