"""Closure table against materialised `ltree` paths, for the questions the visibility policy asks
of the hierarchy (docs/benchmarks.md, "Hierarchy: closure table or ltree").

On a freshly generated benchmark database, in one transaction that is rolled back: the paths are
built next to the closure table (`contact_path`: each contact's chain of ids from the top, with a
GiST index), then each question is timed both ways (minimum of `--repeat` runs):

- the members of a scope (a top partner's subtree, a mid-level one's);
- whether each of a page's 200 contacts lies in a scope;
- the ancestors, with their level, of a page's 200 contacts;
- how many orders a scope sees (closure: `order_reach`; ltree: the parties whose path lies
  under the root's);
- moving a subtree of the top partner under another organisation, and back.

    python -m bench.hierarchy --scale 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from app.dbserver import asyncpg_dsn, drop_database
from bench.operations import prepare

PATHS = """
CREATE EXTENSION IF NOT EXISTS ltree;
CREATE TEMP TABLE contact_path ON COMMIT DROP AS
WITH RECURSIVE down(id, path) AS (
    SELECT id, text2ltree(replace(id::text, '-', '')) FROM contact WHERE parent_organization_id IS NULL
    UNION ALL
    SELECT c.id, down.path || replace(c.id::text, '-', '') FROM contact c JOIN down ON c.parent_organization_id =
    down.id
)
SELECT id, path FROM down;
CREATE INDEX ON contact_path USING gist (path);
CREATE UNIQUE INDEX ON contact_path (id);
ANALYZE contact_path;
"""


async def _minimum(run: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, Any]:
    result = await run()
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        result = await run()
        best = min(best, time.perf_counter() - started)
    return best * 1000, result


def _asking(conn: asyncpg.Connection, query: str, args: tuple[Any, ...]) -> Callable[[], Awaitable[Any]]:
    async def ask() -> Any:
        return await conn.fetchval(query, *args)

    return ask


async def compare(conn: asyncpg.Connection, repeat: int) -> list[dict[str, Any]]:
    await conn.execute(PATHS)
    top = await conn.fetchval(
        "SELECT ancestor_id FROM contact_closure GROUP BY ancestor_id ORDER BY count(*) DESC LIMIT 1"
    )
    middle = await conn.fetchval(
        "SELECT c.id FROM contact c JOIN contact_closure cc ON cc.ancestor_id = c.id WHERE "
        "c.parent_organization_id = $1 "
        "GROUP BY c.id ORDER BY count(*) DESC LIMIT 1",
        top,
    )
    page = [r["id"] for r in await conn.fetch("SELECT id FROM contact ORDER BY md5(id::text) LIMIT 200")]
    questions: list[tuple[str, str, str, tuple[Any, ...]]] = []
    for label, root in (("top partner", top), ("mid-level partner", middle)):
        questions.append(
            (
                f"members of a scope ({label})",
                "SELECT count(*) FROM contact_closure WHERE ancestor_id = $1",
                "SELECT count(*) FROM contact_path WHERE path <@ (SELECT path FROM contact_path WHERE id = $1)",
                (root,),
            )
        )
        questions.append(
            (
                f"200 contacts: in the scope? ({label})",
                "SELECT count(*) FROM unnest($2::uuid[]) AS p(id) "
                "WHERE EXISTS (SELECT 1 FROM contact_closure WHERE ancestor_id = $1 AND descendant_id = p.id)",
                "SELECT count(*) FROM unnest($2::uuid[]) AS p(id) JOIN contact_path cp ON cp.id = p.id "
                "WHERE cp.path <@ (SELECT path FROM contact_path WHERE id = $1)",
                (root, page),
            )
        )
        questions.append(
            (
                f"orders the scope sees ({label})",
                "SELECT count(*) FROM order_reach WHERE ancestor_id = $1",
                "SELECT count(DISTINCT op.order_id) FROM order_party op JOIN contact_path cp ON cp.id = op.contact_id "
                "WHERE cp.path <@ (SELECT path FROM contact_path WHERE id = $1)",
                (root,),
            )
        )
    questions.append(
        (
            "ancestors with their level of 200 contacts",
            "SELECT count(*) FROM contact_closure cc JOIN contact a ON a.id = cc.ancestor_id "
            "WHERE cc.descendant_id = ANY($1::uuid[]) AND cc.depth > 0",
            "SELECT count(*) FROM contact_path cp CROSS JOIN LATERAL generate_series(1, nlevel(cp.path) - 1) AS level "
            "JOIN contact a ON replace(a.id::text, '-', '') = ltree2text(subpath(cp.path, nlevel(cp.path) - "
            "level - 1, 1)) "
            "WHERE cp.id = ANY($1::uuid[])",
            (page,),
        )
    )
    rows = []
    for name, closure, ltree, args in questions:
        closure_ms, closure_answer = await _minimum(_asking(conn, closure, args), repeat)
        ltree_ms, ltree_answer = await _minimum(_asking(conn, ltree, args), repeat)
        assert closure_answer == ltree_answer, (name, closure_answer, ltree_answer)
        rows.append(
            {
                "question": name,
                "closure_ms": round(closure_ms, 3),
                "ltree_ms": round(ltree_ms, 3),
                "answer": closure_answer,
            }
        )

    # a move: the subtree of the mid-level partner goes under another top-level organisation
    other = await conn.fetchval(
        "SELECT id FROM contact WHERE contact_type = 'organization' AND parent_organization_id IS NULL AND id <> $1 "
        "ORDER BY id LIMIT 1",
        top,
    )
    size = await conn.fetchval("SELECT count(*) FROM contact_closure WHERE ancestor_id = $1", middle)

    async def move_closure(parent: Any) -> None:
        await conn.execute("UPDATE contact SET parent_organization_id = $2 WHERE id = $1", middle, parent)

    async def move_paths(parent: Any) -> None:
        await conn.execute(
            "UPDATE contact_path SET path = (SELECT path FROM contact_path WHERE id = $2) "
            "|| subpath(path, nlevel((SELECT path FROM contact_path WHERE id = $1)) - 1) "
            "WHERE path <@ (SELECT path FROM contact_path WHERE id = $1)",
            middle,
            parent,
        )

    for name, move in (("closure (and order_reach, by triggers)", move_closure), ("ltree paths alone", move_paths)):
        best = float("inf")
        for _ in range(max(3, repeat // 10)):
            savepoint = conn.transaction()  # each move starts from the same tree
            await savepoint.start()
            started = time.perf_counter()
            await move(other)
            best = min(best, time.perf_counter() - started)
            await savepoint.rollback()
        rows.append({"question": f"move a subtree of {size} contacts: {name}", "ms": round(best * 1000, 2)})
    return rows


async def run(scale: float, repeat: int) -> list[dict[str, Any]]:
    url, _, _ = await prepare(scale)
    conn = await asyncpg.connect(**asyncpg_dsn(url), server_settings={"jit": "off"})
    try:
        tx = conn.transaction()
        await tx.start()
        try:
            return await compare(conn, repeat)
        finally:
            await tx.rollback()
    finally:
        await conn.close()
        await drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    for row in asyncio.run(run(args.scale, args.repeat)):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
