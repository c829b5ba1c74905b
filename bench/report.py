"""The written report (docs/benchmark-results.md) from a run's results."""

from __future__ import annotations

from typing import Any


def header(title: str, command: str, results: dict[str, Any], reading: str = "docs/benchmarks.md") -> list[str]:
    """A report's title, who wrote it when, and the machine, dataset and settings of the run."""
    return [
        f"# {title}",
        "",
        f"Written by `{command}` on {results['when']}; method and reading in {reading}.",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in results["machine"].items()),
        "",
        "Dataset: " + ", ".join(f"{k} {v}" for k, v in results["dataset"].items()),
        "",
        "Run: " + ", ".join(f"{k} {v}" for k, v in results["settings"].items()),
        "",
    ]


def report(results: dict[str, Any]) -> str:
    lines = [
        *header("Benchmark results", "make bench", results),
        "## SQL statements per request by page size (queries 1–3)",
        "",
        "| operation | first: 10 | first: 100 |",
        "|---|---:|---:|",
        *(f"| {g['operation']} | {g['first_10']} | {g['first_100']} |" for g in results["statement_growth"]),
        "",
        "## Query 1 against the SQL floor (concurrency 1)",
        "",
    ]
    floor = results["floor"]
    lines += [
        "| | min ms | p50 ms | p95 ms | p99 ms | response bytes |",
        "|---|---:|---:|---:|---:|---:|",
        f"| SQL floor: one statement, JSON built in PostgreSQL, asyncpg | {floor['min_ms']} | {floor['p50_ms']} | "
        f"{floor['p95_ms']} | {floor['p99_ms']} | {floor['response_bytes']} |",
    ]
    api = next(
        (
            c
            for c in results["cells"]
            if c["workers"] == 1 and c["concurrency"] == 1 and c["operation"].startswith("1 ")
        ),
        None,
    )
    if api:
        lines.append(
            f"| API, 1 worker | {api['min_ms']} | {api['p50_ms']} | {api['p95_ms']} | {api['p99_ms']} | "
            f"{api['response_bytes']} |"
        )

    if "ratio_query1_p50" in results:
        lines += [
            "",
            f"API / floor: **{results['ratio_query1_p50']}×** at p50, **{results['ratio_query1_min']}×** "
            "at the minimum (ratios: comparable across machines; the minimum is the one stalls cannot inflate).",
        ]
    single = {c["operation"].split(" ")[0]: c for c in results["cells"] if c["workers"] == 1 and c["concurrency"] == 1}
    pairs = [
        ("1s", "1", "the order tree partner-scoped / unscoped (same page, same shape)"),
        ("2", "1", "query 2 (partner portal) / query 1"),
        ("5", "1", "query 5 (customer portal) / query 1"),
    ]
    ratios = [
        (label, single[a]["min_ms"] / single[b]["min_ms"])
        for a, b, label in pairs
        if a in single and b in single and single[b]["min_ms"]
    ]
    if ratios:
        lines += [
            "",
            "## Visibility's cost (1 worker, concurrency 1, minima)",
            "",
            *(f"- {label}: **{ratio:.2f}×**" for label, ratio in ratios),
        ]
    lines += [
        "",
        "## Load (absolute figures: this machine only)",
        "",
        "| workers | concurrency | operation | requests | errors | req/s | min ms | p50 ms | p95 ms | p99 ms | "
        "SQL/request | bytes | server RSS MB | server CPU ms/request |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in results["cells"]:
        lines.append(
            f"| {c['workers']} | {c['concurrency']} | {c['operation']} | {c['requests']} | {c['errors']} | "
            f"{c['req_per_s']} | {c['min_ms']} | {c['p50_ms']} | {c['p95_ms']} | {c['p99_ms']} | "
            f"{c['sql_per_request']} | "
            f"{c['response_bytes']} | {c['server_rss_mb']} | {c['server_cpu_ms']} |"
        )
    return "\n".join(lines) + "\n"
