"""schema.graphql is the exported SDL of the Strawberry schema; `make schema` rewrites it."""

from __future__ import annotations

from app.config import Settings
from graphql_schema.schema import build_schema
from tests.support.database import ROOT


def test_schema_graphql_is_current() -> None:
    exported = (ROOT / "schema.graphql").read_text()
    assert exported == build_schema(Settings.from_env()).as_str() + "\n", "schema.graphql is stale: run `make schema`"


def test_every_mutation_its_result_and_its_errors_are_described() -> None:
    from graphql import GraphQLObjectType, GraphQLUnionType, get_named_type

    schema = build_schema(Settings.from_env())._schema
    mutations = schema.mutation_type
    assert mutations is not None
    undescribed = [f"mutation {name}" for name, field in mutations.fields.items() if not field.description]
    user_error = schema.get_type("UserError")
    for name, field in mutations.fields.items():
        result = get_named_type(field.type)
        members = result.types if isinstance(result, GraphQLUnionType) else [result]
        undescribed += [f"{name} result {result.name}"] * (not result.description)
        undescribed += [
            f"{name} error {member.name}"
            for member in members
            if isinstance(member, GraphQLObjectType) and user_error in member.interfaces and not member.description
        ]
    assert undescribed == []
