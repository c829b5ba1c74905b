"""`chargecars run` on the embedded PostgreSQL, as an operator stops it: SIGTERM (what Docker,
systemd and Kubernetes send) and SIGINT (Ctrl-C) end the API and the database together, also
after an earlier run was killed without cleaning up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

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


def _run_until(data_dir: Path, signum: int) -> int:
    """Start `chargecars run`, wait until it answers, send `signum`; its exit code."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the embedded server
    env |= {"CHARGECARS_DATA_DIR": str(data_dir), "CHARGECARS_PORT": str(port), "CHARGECARS_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, "chargecars run did not become ready"
            time.sleep(0.2)
        assert _postmaster(data_dir) is not None
        process.send_signal(signum)
        return process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


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
    assert json.loads((data_dir / ".handle_pids.json").read_text()) == []
