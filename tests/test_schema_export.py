"""schema.graphql is the exported SDL of the Strawberry schema; `make schema` rewrites it."""

from __future__ import annotations

from graphql_schema.schema import schema
from tests.conftest import ROOT


def test_schema_graphql_is_current() -> None:
    exported = (ROOT / "schema.graphql").read_text()
    assert exported == schema.as_str() + "\n", "schema.graphql is stale: run `make schema`"
