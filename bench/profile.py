"""`make profile`: query 1 in-process under pyinstrument, on a freshly generated benchmark
database; writes bench/profile-query1.txt (and .html)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from pyinstrument import Profiler

from app.dbserver import drop_database
from bench.driver import in_process
from bench.operations import prepare, read_operations

OUT = Path(__file__).resolve().parent


async def profile(scale: float, repeat: int) -> None:
    url, data, tokens = await prepare(scale)
    query1 = read_operations(data, tokens)[0]
    async with in_process(url) as once:
        for _ in range(3):
            await once(query1)
        profiler = Profiler(async_mode="enabled", interval=0.0005)
        with profiler:
            for _ in range(repeat):
                await once(query1)
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
