"""Objects built from rows (graphql_schema/rows.py) read each field from its own column, whatever
the statement's column order, for every shape of row a statement returns."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import text

from graphql_schema.rows import from_row


@dataclasses.dataclass
class Pair:
    left: str
    right: int
    note: str | None = None


async def test_fields_come_from_their_own_columns_for_each_row_shape(session) -> None:
    statements = {
        "SELECT 'a' AS left, 1 AS right": [("a", 1, None)],
        "SELECT 2 AS right, 'x' AS extra, 'b' AS left": [("b", 2, None)],
        "SELECT 'n' AS note, v.l AS left, v.r AS right FROM (VALUES ('c', 3), ('d', 4)) AS v(l, r)": [
            ("c", 3, "n"),
            ("d", 4, "n"),
        ],
    }
    for _ in range(2):  # the second time from what was kept for each shape
        for statement, expected in statements.items():
            rows = (await session.execute(text(statement))).all()
            assert [dataclasses.astuple(from_row(Pair, row)) for row in rows] == expected, statement
    # an override wins over the column; a one-field read works too
    row = (await session.execute(text("SELECT 'e' AS left, 5 AS right"))).one()
    assert from_row(Pair, row, right=9) == Pair("e", 9)
    only = (await session.execute(text("SELECT 7 AS right"))).one()
    assert from_row(Pair, only, left="f") == Pair("f", 7)


@dataclasses.dataclass
class WithDefaults:
    left: str
    tags: list[str] = dataclasses.field(default_factory=list)
    note: str = "none"


@dataclasses.dataclass
class Checked:
    left: str
    seen: list[str] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        self.seen.append(self.left)


async def test_instances_are_what_their_init_would_make(session) -> None:
    row = (await session.execute(text("SELECT 'g' AS left"))).one()
    built = [from_row(WithDefaults, row), from_row(WithDefaults, row)]
    assert built == [WithDefaults("g"), WithDefaults("g")]
    assert built[0].tags is not built[1].tags  # a factory per instance, as `__init__` calls it
    assert from_row(WithDefaults, row, note="n") == WithDefaults("g", note="n")
    assert from_row(Checked, row).seen == ["g"]  # a `__post_init__` runs
    missing = (await session.execute(text("SELECT 'n' AS note"))).one()
    with pytest.raises(TypeError):  # a required field with no column and no override
        from_row(WithDefaults, missing)
