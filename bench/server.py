"""The server under test and the machine: uvicorn processes, their CPU and memory, what runs them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from sqlalchemy.engine import URL

from app.dbserver import asyncpg_dsn
from bench.operations import ROOT


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
