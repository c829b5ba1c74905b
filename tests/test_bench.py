"""The whole benchmark at a tiny scale, so that it never rots: dataset, query mix against a real
uvicorn server (1 and 2 workers), SQL floor, report. Figures are checked for shape, not speed
(2 requests per cell)."""

from __future__ import annotations

import os
from pathlib import Path

from bench import run, webhooks
from tests.support.database import ROOT


def test_the_benchmark_runs_end_to_end_and_writes_its_report(tmp_path: Path, monkeypatch) -> None:
    # on the test server (its own database, `<name>_bench`), not a third embedded server
    monkeypatch.setenv(
        "CHARGECARS_BENCH_DATA_DIR", os.environ.get("CHARGECARS_TEST_DATA_DIR", str(ROOT / ".pgdata-test"))
    )
    report, data = tmp_path / "report.md", tmp_path / "results.json"
    results = run.main(
        [
            "--scale",
            "0.004",
            "--seconds",
            "0",
            "--requests",
            "2",
            "--warmup",
            "1",
            "--page",
            "10",
            "--concurrency",
            "1,4",
            "--workers",
            "1,2",
            "--report",
            str(report),
            "--json",
            str(data),
        ]
    )

    dataset = results["dataset"]
    assert dataset["levels"] == 8 and dataset["orders"] == 200 and dataset["commissions"] > 0
    operations = {
        "1 frontend order tree",
        "1s frontend order tree, partner-scoped",
        "2 partner portal",
        "3 analyst descendants",
        "5 customer portal",
        "4a changeStatus",
        "4b createOrder",
    }
    cells = results["cells"]
    assert {(c["workers"], c["concurrency"]) for c in cells} == {(1, 1), (1, 4), (2, 1), (2, 4)}
    assert {c["operation"] for c in cells} == operations
    for cell in cells:
        assert cell["requests"] == 2 and cell["errors"] == 0, cell
        assert cell["sql_per_request"] > 0 and cell["response_bytes"] > 0 and cell["server_rss_mb"] > 0, cell
        # CPU time is counted in clock ticks (10 ms): two writes of a few ms each may not reach one
        reads = cell["operation"][0] != "4"
        assert cell["server_cpu_ms"] > 0 if reads else cell["server_cpu_ms"] >= 0, cell
        assert 0 < cell["min_ms"] <= cell["p50_ms"] <= cell["p95_ms"] <= cell["p99_ms"], cell
    # statements per request do not grow with the page size
    assert all(g["first_10"] == g["first_100"] for g in results["statement_growth"]), results["statement_growth"]
    assert results["floor"]["requests"] == 2 and results["ratio_query1_p50"] > 0 and results["ratio_query1_min"] > 0
    text = report.read_text()
    assert "API / floor" in text and text.count("\n| 2 | 4 |") == len(operations)
    assert "the order tree partner-scoped / unscoped" in text and "query 5 (customer portal) / query 1" in text
    assert data.exists()


def test_the_hierarchy_comparison_runs_and_both_structures_agree(monkeypatch) -> None:
    """`python -m bench.hierarchy` at a tiny scale: every question gets the same answer from the
    closure table and from ltree paths (the comparison asserts it), and both moves are timed."""
    import asyncio

    from bench import hierarchy

    monkeypatch.setenv(
        "CHARGECARS_BENCH_DATA_DIR", os.environ.get("CHARGECARS_TEST_DATA_DIR", str(ROOT / ".pgdata-test"))
    )
    rows = asyncio.run(hierarchy.run(0.01, 2))
    timed = [r for r in rows if "closure_ms" in r]
    assert len(timed) == 7 and all(r["closure_ms"] > 0 and r["ltree_ms"] > 0 for r in timed)
    assert any(r["answer"] > 0 for r in timed if r["question"].startswith("orders the scope sees"))
    moves = [r for r in rows if r["question"].startswith("move a subtree")]
    assert len(moves) == 2 and all(r["ms"] > 0 for r in moves)


def test_the_webhook_benchmark_runs_end_to_end_and_writes_its_report(tmp_path: Path, monkeypatch) -> None:
    """`make bench-webhooks` at a tiny scale: every event it makes is delivered and measured."""
    monkeypatch.setenv(
        "CHARGECARS_BENCH_DATA_DIR", os.environ.get("CHARGECARS_TEST_DATA_DIR", str(ROOT / ".pgdata-test"))
    )
    report, data = tmp_path / "report.md", tmp_path / "results.json"
    tiny = ["--rounds", "2", "--per-round", "3", "--events", "12", "--pause", "0.01", "--seconds", "1"]
    results = webhooks.main(
        ["--scale", "0.004", *tiny, "--backlog", "30", "--report", str(report), "--json", str(data)]
    )

    for operation in ("4a changeStatus", "4b createOrder"):
        cost = results["write_cost"][operation]
        assert cost["with"]["n"] > 0 and cost["without"]["n"] > 0 and cost["min_ratio"] > 0, cost
    assert results["at_rest"]["n"] > 0 and results["at_rest"]["min_ms"] > 0
    assert results["under_load"]["n"] > 0
    assert all(cell["requests"] > 0 and cell["errors"] == 0 for cell in results["load"])
    assert [(t["workers"], t["events"], t["deliveries"]) for t in results["throughput"]] == [(1, 30, 30), (2, 30, 30)]
    text = report.read_text()
    assert "## Event to receipt" in text and "## Deliveries per second" in text
