"""The machine and the server under test: the CPU and memory of its processes, what runs them
(the server itself is `app.serving.served`)."""

from __future__ import annotations

import contextlib
import os
import platform
import time
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from sqlalchemy.engine import URL

from app.dbserver import asyncpg_dsn


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
