"""Abuse limits: each has a test just under and just over it, and a rejection runs no SQL
beyond the token lookup."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from graphql.language import Lexer, Source, TokenKind

from app.accounts.models import Role
from app.asgi import create_app
from app.db import create_engine
from tests.factories import issue_token, make_contact
from tests.support.api import gql, gql_errors

LIMITS = {
    "max_query_depth": 6,
    "max_aliases": 5,
    "max_tokens": 60,
    "max_batch_operations": 3,
    "max_fields": 12,
    "max_fragments": 3,
    "max_field_merges": 6,
}


@pytest.fixture
async def limited(engine, settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(engine=engine, settings=settings.model_copy(update=LIMITS))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


def nested(levels: int) -> str:
    """A query of depth `levels` + 2 (`contacts { nodes { parent … } } }`)."""
    inner = "displayName"
    for _ in range(levels):
        inner = f"parent {{ {inner} }}"
    return f"{{ contacts {{ nodes {{ {inner} }} }} }}"


def tokens_in(query: str) -> int:
    lexer, count = Lexer(Source(query)), 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


async def test_query_depth(limited, admin_token, count_statements) -> None:
    depth = LIMITS["max_query_depth"]
    await gql(limited, nested(depth - 2), token=admin_token)
    with count_statements() as counter:
        errors = await gql_errors(limited, nested(depth - 1), token=admin_token)
    assert errors[0]["message"] == f"'anonymous' exceeds maximum operation depth of {depth}"
    assert len(counter.statements) == 1 and "api_token" in counter.statements[0]  # the token lookup only


async def test_aliases(limited, admin_token) -> None:
    allowed = LIMITS["max_aliases"]
    query = lambda n: "{ " + " ".join(f"a{i}: businessEntities {{ code }}" for i in range(n)) + " }"  # noqa: E731
    data = await gql(limited, query(allowed), token=admin_token)
    assert len(data) == allowed
    errors = await gql_errors(limited, query(allowed + 1), token=admin_token)
    assert "aliases" in errors[0]["message"].lower()


def fragments(count: int) -> str:
    """`count` fragments, each selecting one more field of the business entities."""
    names = ["id", "code", "name", "__typename", "id", "code"]
    spreads = " ".join(f"...F{i}" for i in range(count))
    definitions = " ".join(f"fragment F{i} on BusinessEntity {{ {names[i]} }}" for i in range(count))
    return f"{{ businessEntities {{ {spreads} }} }} {definitions}"


async def test_fragment_definitions(limited, admin_token) -> None:
    allowed = LIMITS["max_fragments"]
    await gql(limited, fragments(allowed), token=admin_token)
    [error] = await gql_errors(limited, fragments(allowed + 1), token=admin_token)
    assert error["message"] == f"The document defines {allowed + 1} fragments; at most {allowed} are allowed."
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_fields_after_fragment_expansion(limited, admin_token) -> None:
    """F is written once and spread twice: its three fields count twice (12 fields in all)."""
    allowed = LIMITS["max_fields"]
    query = (
        "{ businessEntities { ...F } contacts { nodes { businessEntity { ...F } } } viewer { roles } } "
        "fragment F on BusinessEntity { id code name }"
    )
    await gql(limited, query, token=admin_token)
    [error] = await gql_errors(limited, query.replace("viewer {", "__typename viewer {"), token=admin_token)
    assert error["message"] == f"The document selects more than {allowed} fields once its fragments are expanded."


async def test_same_named_fields_to_merge(limited, admin_token) -> None:
    """n copies of one field in a selection set are n·(n-1)/2 pairs for validation to compare."""
    allowed = LIMITS["max_field_merges"]  # 6 = 4 copies
    await gql(limited, "{ businessEntities { id id id id } }", token=admin_token)
    [error] = await gql_errors(limited, "{ businessEntities { id id id id id } }", token=admin_token)
    assert f"more than {allowed} pairs of same-named fields" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_tokens(limited, admin_token) -> None:
    allowed = LIMITS["max_tokens"]
    base = "{ businessEntities { code } }"
    pad = lambda n: "{ orders(filter: {status: [" + '"x" ' * n + "]}) { totalCount } }"  # noqa: E731
    just_under = next(pad(n) for n in range(100) if tokens_in(pad(n)) == allowed)
    just_over = next(pad(n) for n in range(100) if tokens_in(pad(n)) == allowed + 1)
    assert tokens_in(base) < allowed
    await gql(limited, just_under, token=admin_token)
    errors = await gql_errors(limited, just_over, token=admin_token)
    assert "token" in errors[0]["message"].lower()


async def test_operations_per_batch(limited, admin_token) -> None:
    allowed = LIMITS["max_batch_operations"]
    headers = {"Authorization": f"Bearer {admin_token}"}
    batch = [{"query": "{ businessEntities { code } }"}] * allowed
    response = await limited.post("/graphql", json=batch, headers=headers)
    assert response.status_code == 200
    assert [len(r["data"]["businessEntities"]) for r in response.json()] == [5] * allowed
    response = await limited.post("/graphql", json=batch + batch[:1], headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"message": "Too many operations", "extensions": {"code": "BAD_REQUEST"}}]


async def test_page_size_is_capped(limited, admin_token) -> None:
    await gql(limited, "{ contacts(first: 100) { totalCount } }", token=admin_token)
    errors = await gql_errors(limited, "{ contacts(first: 101) { totalCount } }", token=admin_token)
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_field_suggestions_only_for_staff(client, sessions, admin_token) -> None:
    org = await make_contact(sessions, "Org")
    partner = await issue_token(sessions, Role.PARTNER, contact_id=org.id)
    query = "{ contacts { nodes { displayNme } } }"
    staff_message = (await gql_errors(client, query, token=admin_token))[0]["message"]
    partner_message = (await gql_errors(client, query, token=partner))[0]["message"]
    assert "Did you mean 'displayName'?" in staff_message
    assert partner_message == "Cannot query field 'displayNme' on type 'Contact'."
    # stripping works on new errors: what a partner got never changes what staff get next
    assert (await gql_errors(client, query, token=admin_token))[0]["message"] == staff_message


async def test_introspection_can_be_switched_off(engine, settings, admin_token) -> None:
    app = create_app(engine=engine, settings=settings.model_copy(update={"introspection": False}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        errors = await gql_errors(http, "{ __schema { queryType { name } } }", token=admin_token)
        assert "introspection" in errors[0]["message"].lower()
        await gql(http, "{ businessEntities { code } }", token=admin_token)


async def test_unparsable_bodies_are_graphql_errors(client) -> None:
    response = await client.post("/graphql", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_request_that_gets_no_connection_is_answered_503(database_url, settings, admin_token) -> None:
    """When every pooled connection stays busy for the pool timeout (overload), the answer is a
    typed, retryable 503 instead of an unhandled 500; once a connection is free, requests pass."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.3)
    app = create_app(engine=engine, settings=settings)
    query = {"query": "{ viewer { roles } }"}
    headers = {"Authorization": f"Bearer {admin_token}"}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            async with engine.connect() as held:  # the only connection, busy
                await held.exec_driver_sql("SELECT 1")
                response = await http.post("/graphql", json=query, headers=headers)
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
            body = response.json()
            assert body["data"] is None
            assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"

            response = await http.post("/graphql", json=query, headers=headers)
            assert response.status_code == 200
            assert response.json()["data"]["viewer"]["roles"] == ["ADMIN"]
    finally:
        await engine.dispose()
