"""`make profile`: query 1 in-process under pyinstrument, on a freshly generated benchmark
database; writes bench/profile-query1.txt (and .html)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from pathlib import Path

import httpx
from pyinstrument import Profiler

from app import migrate
from app.asgi import create_app
from app.config import Settings
from app.dbserver import drop_database, ensure_database
from bench.generate import generate, summary
from bench.run import PAGE, bench_database_url, load_query, make_tokens

OUT = Path(__file__).resolve().parent


async def profile(scale: float, repeat: int) -> None:
    url = bench_database_url()
    await drop_database(url)
    await ensure_database(url)
    await asyncio.to_thread(migrate.upgrade, url, configure_logging=False)
    data = await generate(url, scale=scale)
    print(f"dataset: {summary(data)}")
    tokens = await make_tokens(url, data)
    settings = dataclasses.replace(Settings.from_env(), log_level="warning")
    app = create_app(url=url, settings=settings)
    query = {"query": load_query("1_frontend_order_tree.graphql"), "variables": {"first": PAGE}}
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for _ in range(5):  # warm: connections, prepared statements, schema
            (await client.post("/graphql", json=query, headers=headers)).raise_for_status()
        profiler = Profiler(async_mode="enabled", interval=0.0005)
        with profiler:
            for _ in range(repeat):
                (await client.post("/graphql", json=query, headers=headers)).raise_for_status()
    (OUT / "profile-query1.txt").write_text(profiler.output_text(unicode=True, show_all=False))
    (OUT / "profile-query1.html").write_text(profiler.output_html())
    print(f"wrote {OUT / 'profile-query1.txt'}")
    await drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(profile(args.scale, args.repeat))


if __name__ == "__main__":
    main()
