"""schema.graphql is the exported SDL of the Strawberry schema; `make schema` rewrites it."""

from __future__ import annotations

from app.config import Settings
from graphql_schema.schema import build_schema
from tests.support.database import ROOT


def test_schema_graphql_is_current() -> None:
    exported = (ROOT / "schema.graphql").read_text()
    assert exported == build_schema(Settings.from_env()).as_str() + "\n", "schema.graphql is stale: run `make schema`"
