"""`make bench-pooler`: the API and a job-free write mix through a real PgBouncer in transaction
mode (docs/deployment.md, "Behind PgBouncer").

PgBouncer (Debian's package; `apt-get install pgbouncer`) is started here in front of the
benchmark database with fewer server connections than clients, so that consecutive transactions
of one API connection land on different server connections. The API runs with two workers and
CHARGECARS_DATABASE_POOLER=transaction, and the query mix (the order tree as staff, as a partner
and as a customer, the partner portal, the analyst's descendants, status changes and new orders)
runs at concurrency 8. Every answer must be free of errors, and each read must answer exactly
what the same request answers with the API connected to PostgreSQL directly: a viewer's
per-transaction settings must never leak to another request on a shared server connection. The
same mix is then sent with the setting off, to show what it is for.

    python -m bench.pooler --scale 0.1 --requests 40
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pwd
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import URL

from app.dbserver import drop_database
from app.serving import free_port, served
from bench.driver import Cell, drive
from bench.operations import READS, ROOT, operations, prepare, write_state

SERVER_CONNECTIONS = 4


def _bouncer(url: URL, directory: Path) -> tuple[subprocess.Popen[bytes], URL]:
    """PgBouncer in transaction mode in front of `url`'s database, on a free local port."""
    executable = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    port = free_port()
    host = str(url.query.get("host") or url.host or "127.0.0.1")
    directory.chmod(0o777)
    (directory / "userlist.txt").write_text(f'"{url.username}" ""\n')
    (directory / "pgbouncer.ini").write_text(
        f"""[databases]
{url.database} = host={host} port={url.port or 5432} dbname={url.database} user={url.username}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory}/userlist.txt
pool_mode = transaction
default_pool_size = {SERVER_CONNECTIONS}
max_client_conn = 400
ignore_startup_parameters = extra_float_digits
logfile = {directory}/pgbouncer.log
"""
    )
    # PgBouncer refuses to run as root: it runs as the user that owns the server's socket directory
    owner = pwd.getpwuid(Path(host).stat().st_uid).pw_name if host.startswith("/") else "postgres"
    process = subprocess.Popen([executable, "-u", owner, str(directory / "pgbouncer.ini")], stdout=subprocess.DEVNULL)
    time.sleep(1.0)
    if process.poll() is not None:
        raise RuntimeError(f"pgbouncer exited: {(directory / 'pgbouncer.log').read_text()[-2000:]}")
    through = URL.create(
        "postgresql+asyncpg", username=url.username, host="127.0.0.1", port=port, database=url.database
    )
    return process, through


async def _mix(base: str, ops: list[Any], requests: int, concurrency: int) -> list[Cell]:
    cells = []
    limits = httpx.Limits(max_connections=concurrency + 4)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        for op in ops:
            cell = Cell(2, concurrency, op.name)
            await drive(client, op, cell, 0, requests)
            cells.append(cell)
    return cells


async def _answers(base: str, ops: list[Any]) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        answers = []
        for op in ops:
            response = await client.post(
                "/graphql", json=op.payload(0), headers={"Authorization": f"Bearer {op.token}"}
            )
            answers.append(json.dumps(response.json(), sort_keys=True))
        return answers


async def run(args: argparse.Namespace) -> dict[str, Any]:
    url, data, tokens = await prepare(args.scale, args.seed)
    state = await write_state(url)
    results: dict[str, Any] = {"scale": args.scale, "requests_per_operation": args.requests, "modes": {}}
    with tempfile.TemporaryDirectory(prefix="chargecars-pgbouncer-") as directory:
        bouncer, through = _bouncer(url, Path(directory))
        try:
            modes: tuple[tuple[str, dict[str, Any]], ...] = (
                ("transaction", {"CHARGECARS_DATABASE_POOLER": "transaction"}),
                ("none", {}),
            )
            with served(url, workers=2, CHARGECARS_PARTNER_RATE_LIMIT="1000000") as direct:
                for mode, env in modes:
                    ops = operations(data, tokens, state, args.concurrency, random.Random(args.seed))
                    reads = ops[:READS]
                    try:
                        with served(
                            through, workers=2, start_timeout=20, CHARGECARS_PARTNER_RATE_LIMIT="1000000", **env
                        ) as api:
                            # the same reads, at the same moment, directly and through the pooler
                            before = await _answers(api.base_url, reads) == await _answers(direct.base_url, reads)
                            cells = await _mix(api.base_url, ops, args.requests, args.concurrency)
                            after = await _answers(api.base_url, reads) == await _answers(direct.base_url, reads)
                    except RuntimeError as exc:
                        results["modes"][mode] = {"started": False, "reason": str(exc), "cells": []}
                    else:
                        results["modes"][mode] = {
                            "started": True,
                            "reads_identical_to_direct": before and after,
                            "cells": [c.row() for c in cells],
                        }
                    print(mode, json.dumps(results["modes"][mode]), flush=True)
        finally:
            bouncer.terminate()
            bouncer.wait()
    await drop_database(url)
    return results


def report(results: dict[str, Any]) -> str:
    lines = [
        "# Through PgBouncer (generated by `make bench-pooler`)",
        "",
        f"Scale {results['scale']}; PgBouncer 1.18, transaction mode, {SERVER_CONNECTIONS} server connections; "
        f"the API with 2 workers; {results['requests_per_operation']} requests per operation at concurrency 8.",
        "",
        "| CHARGECARS_DATABASE_POOLER | operation | requests | errors | p50 ms | p99 ms | reads as direct |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for mode, outcome in results["modes"].items():
        if not outcome["started"]:
            lines.append(f"| {mode} | (the API did not become ready: {outcome['reason']}) | | | | | |")
        for cell in outcome["cells"]:
            lines.append(
                f"| {mode} | {cell['operation']} | {cell['requests']} | {cell['errors']} | {cell['p50_ms']} "
                f"| {cell['p99_ms']} | {'yes' if outcome['reads_identical_to_direct'] else 'no'} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "0.1")))
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "benchmark-pooler.md")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    args.report.write_text(report(results))
    print(f"wrote {args.report}")


if __name__ == "__main__":
    main()
