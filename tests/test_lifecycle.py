"""`chargecars run` on the embedded PostgreSQL, as an operator stops it: SIGTERM (what Docker,
systemd and Kubernetes send) and SIGINT (Ctrl-C) end the API, the worker, the mailbox and the
database together, letting requests in flight finish; also after an earlier run was killed
outright (its worker and mailbox die with it; its database is taken over and stopped)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from app.dbserver import process_alive
from app.serving import free_port
from tests.support.database import ROOT


def _postmaster(data_dir: Path) -> int | None:
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().splitlines()[0])
    return pid if process_alive(pid) else None


@contextmanager
def _running(data_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`chargecars run` until the block ends (then killed if it is still there); yields it and
    its base URL once it answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the embedded server
    env |= {
        "CHARGECARS_DATA_DIR": str(data_dir),
        "CHARGECARS_PORT": str(port),
        "CHARGECARS_LOG_LEVEL": "warning",
        "CHARGECARS_SMTP_PORT": str(free_port()),  # its own mailbox, not a developer's
        "CHARGECARS_MAILBOX_DIR": str(data_dir.parent / "mailbox"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, "chargecars run did not become ready"
            time.sleep(0.2)
        assert _postmaster(data_dir) is not None
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _run_until(data_dir: Path, signum: int) -> int:
    """Start `chargecars run`, wait until it answers, send `signum`; its exit code."""
    with _running(data_dir) as (process, _):
        process.send_signal(signum)
        return process.wait(timeout=60)


def _children(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    return psutil.Process(process.pid).children(recursive=False)


@pytest.fixture
def data_dir(tmp_path) -> Iterator[Path]:
    data_dir = tmp_path / "pgdata"
    yield data_dir
    left = _postmaster(data_dir)  # a failed run must not leave its server behind
    if left is not None:
        os.kill(left, signal.SIGQUIT)


def test_sigterm_and_sigint_stop_the_api_and_the_embedded_database(data_dir) -> None:
    assert _run_until(data_dir, signal.SIGTERM) == 128 + signal.SIGTERM
    assert _postmaster(data_dir) is None
    assert json.loads((data_dir / ".handle_pids.json").read_text()) == []

    # a run that was killed outright leaves its PID listed as using the server
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (data_dir / ".handle_pids.json").write_text(json.dumps([dead.pid]))
    assert _run_until(data_dir, signal.SIGINT) == 128 + signal.SIGINT
    assert _postmaster(data_dir) is None


def test_after_a_kill_9_nothing_is_left_but_the_database_which_the_next_run_stops(data_dir) -> None:
    with _running(data_dir) as (process, _):
        helpers = _children(process)  # the job worker and the mailbox
        assert len(helpers) == 2
        process.kill()
        process.wait()
        gone, alive = psutil.wait_procs(helpers, timeout=20)
        assert alive == [], [p.cmdline() for p in alive]
    assert _postmaster(data_dir) is not None  # the database outlives a SIGKILL (pg_ctl detaches it)
    for _ in range(2):
        assert _run_until(data_dir, signal.SIGTERM) == 128 + signal.SIGTERM
        assert _postmaster(data_dir) is None


def test_a_request_in_flight_finishes_after_sigterm(data_dir) -> None:
    with _running(data_dir) as (process, base):
        socket_dir = (data_dir / "postmaster.pid").read_text().splitlines()[4]  # where it listens

        async def scenario() -> httpx.Response:
            holder = await asyncpg.connect(host=socket_dir, user="postgres", database="chargecars")
            try:
                async with httpx.AsyncClient(base_url=base, timeout=60) as http:
                    async with holder.transaction():
                        # the token lookup waits for this lock: the request is in flight
                        await holder.execute("LOCK TABLE api_token IN ACCESS EXCLUSIVE MODE")
                        request = asyncio.create_task(
                            http.post(
                                "/graphql",
                                json={"query": "{ viewer { roles } }"},
                                headers={"Authorization": "Bearer cc_x"},
                            )
                        )
                        for _ in range(200):
                            await holder.execute("SELECT pg_stat_clear_snapshot()")
                            waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                            if await holder.fetchval(waiting):
                                break
                            await asyncio.sleep(0.02)
                        else:
                            raise AssertionError("the request did not reach the database")
                        process.send_signal(signal.SIGTERM)
                        await asyncio.sleep(1.0)
                        assert process.poll() is None  # waiting for the request in flight
                    return await request  # the lock is released: the request ends, answered
            finally:
                await holder.close()

        answer = asyncio.run(scenario())
        assert answer.status_code == 401  # answered (the token is not one), not dropped
        assert process.wait(timeout=60) == 128 + signal.SIGTERM
    assert _postmaster(data_dir) is None
