"""The HTTP surface: /healthz, /readyz, GraphiQL, and masking of unexpected errors."""

from __future__ import annotations

import logging

from sqlalchemy import text

from app.business_entities import service as business_entities
from app.migrate import head_revision
from tests.support.api import gql, post


async def test_healthz(client) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_at_head(client) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_readyz_when_migrations_are_not_at_head(client, engine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    try:
        response = await client.get("/readyz")
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()})
    assert response.status_code == 503
    assert response.json()["reason"] == "migrations not at head"


async def test_graphiql_in_a_browser(client) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_get_requests_for_clients(client, admin_token) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "{ businessEntities { code } }"},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert response.status_code == 200
    assert [b["code"] for b in response.json()["data"]["businessEntities"]] == ["CC", "LT", "MKT", "RS", "ZS"]


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(
    client, admin_token, monkeypatch, caplog
) -> None:
    async def broken(**kwargs):
        raise RuntimeError('relation "secret_table" does not exist')

    monkeypatch.setattr(business_entities, "list_all", broken)
    with caplog.at_level(logging.ERROR, logger="chargecars.graphql"):
        response = await post(client, "{ businessEntities { code } }", token=admin_token)
    body = response.json()
    assert body["errors"][0]["message"] == "Unexpected error."
    assert "secret_table" not in response.text
    request_id = response.headers["x-request-id"]
    [record] = [r for r in caplog.records if request_id in r.getMessage()]
    assert "secret_table" in record.getMessage()
    assert record.exc_info is not None


async def test_business_entities(client, admin_token) -> None:
    data = await gql(client, "{ businessEntities { id code name } }", token=admin_token)
    assert {b["code"]: b["name"] for b in data["businessEntities"]}["MKT"] == "MeterKastThuis"
    node = await gql(
        client,
        "query ($id: ID!) { node(id: $id) { ... on BusinessEntity { code } } }",
        {"id": data["businessEntities"][0]["id"]},
        token=admin_token,
    )
    assert node["node"] == {"code": "CC"}
