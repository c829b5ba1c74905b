"""Before/after figures for an optimisation: query 1 in-process (no HTTP server, no client
scheduling), on the benchmark dataset; prints the minimum and the median of N requests.

    python -m bench.measure --scale 0.02 --requests 30
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import time

import httpx

from app import migrate
from app.asgi import create_app
from app.config import Settings
from app.dbserver import drop_database, ensure_database
from bench.generate import generate
from bench.run import PAGE, bench_database_url, load_query, make_tokens


async def measure(scale: float, requests: int) -> dict[str, float]:
    url = bench_database_url()
    await drop_database(url)
    await ensure_database(url)
    await asyncio.to_thread(migrate.upgrade, url, configure_logging=False)
    data = await generate(url, scale=scale)
    tokens = await make_tokens(url, data)
    settings = dataclasses.replace(Settings.from_env(), log_level="warning")
    app = create_app(url=url, settings=settings)
    query = {"query": load_query("1_frontend_order_tree.graphql"), "variables": {"first": PAGE}}
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    timings = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for _ in range(5):
            (await client.post("/graphql", json=query, headers=headers)).raise_for_status()
        for _ in range(requests):
            started = time.perf_counter()
            (await client.post("/graphql", json=query, headers=headers)).raise_for_status()
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
