"""Serving the API: in this process (`chargecars serve` and `run`), or as a child process that its
caller stops (the benchmark, and the tests that need a real HTTP server).

`CHARGECARS_WORKERS` above 1 runs uvicorn's supervisor with that many worker processes; each
builds its own app (and connection pool) from the environment, so the resolved database URL is
handed down through `DATABASE_URL`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import uvicorn
from sqlalchemy.engine import URL
from starlette.types import ASGIApp

from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent
GRACE_SECONDS = 30
"""How long requests in flight may take to finish after SIGTERM/SIGINT before they are cut off."""
WORKER_HEALTHCHECK_SECONDS = 120
"""How long a worker may take to answer its supervisor's ping. uvicorn's default (5 s) kills a
worker busy with a few dozen concurrent order trees in the middle of its requests."""


def _exit_on(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def exit_cleanly_on_signals() -> None:
    """SIGTERM (what Docker, systemd and Kubernetes send) and SIGINT end the process through a
    normal exit, so its exit hooks run (the embedded PostgreSQL stops with it). uvicorn handles
    both while it serves, finishes the requests in flight, restores these handlers and sends the
    signal again: it then lands here."""
    signal.signal(signal.SIGTERM, _exit_on)
    signal.signal(signal.SIGINT, _exit_on)


def serve(url: URL, settings: Settings) -> None:
    """uvicorn, logging through the application's configuration (`app/observability.py`), with
    the access line the application writes (uvicorn's own is off)."""
    exit_cleanly_on_signals()
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": GRACE_SECONDS,
    }
    if settings.workers <= 1:
        from app.asgi import create_app

        uvicorn.run(create_app(url=url, settings=settings), **common)
        return
    os.environ["DATABASE_URL"] = url.render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory(prefix="chargecars-metrics-") as metrics_dir:
        # each worker writes its figures here; a scrape of any worker sums them (prometheus_client)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        uvicorn.run(
            "app.asgi:create_worker_app",
            factory=True,
            workers=settings.workers,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            **common,
        )


def _die_with_parent() -> None:
    """In a child, before it runs: on Linux it is sent SIGTERM when the process that started it
    dies, even by SIGKILL, so a killed `chargecars run` leaves no worker or mailbox behind."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1


@contextmanager
def worker_process(database_url: URL, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """`chargecars worker` on `database_url` in a child process until the block ends (then
    SIGTERM: it finishes the jobs it runs and exits). `env` adds settings (`CHARGECARS_…`)."""
    environment = {**os.environ, "DATABASE_URL": database_url.render_as_string(hide_password=False), **env}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"], env=environment, cwd=ROOT, preexec_fn=_die_with_parent
    )
    try:
        yield process
    finally:
        stop(process)


@contextmanager
def mailbox_process(**env: str) -> Iterator[subprocess.Popen[bytes]]:
    """`chargecars mailbox serve` (the local SMTP server that keeps what it receives) in a child
    process until the block ends."""
    environment = {**os.environ, **env}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "mailbox", "serve"], env=environment, cwd=ROOT, preexec_fn=_die_with_parent
    )
    try:
        yield process
    finally:
        stop(process)


LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Served:
    process: subprocess.Popen[bytes]
    base_url: str


def _ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/readyz", timeout=1) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def served(
    database_url: URL, *, workers: int = 1, start_timeout: float = 60, log: IO[bytes] | None = None, **env: str
) -> Iterator[Served]:
    """`chargecars serve` on `database_url` in a child process, on a free local port, until the
    block ends; yields once `/readyz` answers 200. `env` adds settings (`CHARGECARS_…`); `log`
    takes what it writes to stderr (its log)."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "CHARGECARS_HOST": "127.0.0.1",
        "CHARGECARS_PORT": str(port),
        "CHARGECARS_WORKERS": str(workers),
        "CHARGECARS_LOG_LEVEL": "warning",
        **env,
    }
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], env=environment, cwd=ROOT, stderr=log)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while not _ready(base_url):
            if process.poll() is not None:
                raise RuntimeError(f"the API server exited with {process.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API server was not ready within {start_timeout:.0f} s")
            time.sleep(0.1)
        yield Served(process, base_url)
    finally:
        stop(process)


@asynccontextmanager
async def serving_here(app: ASGIApp, *, start_timeout: float = 10) -> AsyncIterator[str]:
    """`app` served by uvicorn in this event loop, on a free local port, until the block ends
    (the webhook receivers of the tests and the benchmark); yields its base URL once it listens."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + start_timeout
    while not server.started:  # uvicorn says it started through a flag only
        if task.done() or time.monotonic() > deadline:
            raise RuntimeError(f"the server on port {port} did not start")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True
        await asyncio.wait_for(task, timeout=10)
