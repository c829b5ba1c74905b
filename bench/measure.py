"""Before/after figures for an optimisation: query 1 in-process (no HTTP server, no client
scheduling), on the benchmark dataset; prints the minimum and the median of N requests.

    python -m bench.measure --scale 0.02 --requests 30
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from app.dbserver import drop_database
from bench.run import prepare, query1_in_process


async def measure(scale: float, requests: int) -> dict[str, float]:
    url, _, tokens = await prepare(scale)
    timings = []
    async with query1_in_process(url, tokens["admin"]) as query1:
        for _ in range(requests):
            started = time.perf_counter()
            await query1()
            timings.append((time.perf_counter() - started) * 1000)
    await drop_database(url)
    return {"min_ms": round(min(timings), 1), "median_ms": round(statistics.median(timings), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    print(asyncio.run(measure(args.scale, args.requests)))


if __name__ == "__main__":
    main()
