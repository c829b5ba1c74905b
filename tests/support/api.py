"""Talking to the API in tests: GraphQL requests through the in-process client."""

from __future__ import annotations

from typing import Any

import httpx


async def post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
) -> dict[str, Any]:
    """Run an operation that must succeed: any top-level error fails the test."""
    response = await post(client, query, variables, token=token)
    body = response.json()
    assert response.status_code == 200, body
    assert not body.get("errors"), body["errors"]
    return body["data"]


async def gql_errors(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
) -> list[dict[str, Any]]:
    """Run an operation that must fail with top-level errors; return them."""
    body = (await post(client, query, variables, token=token)).json()
    assert body.get("errors"), body
    return body["errors"]


CREATE_ORDER = """
mutation ($input: CreateOrderInput!) {
  createOrder(input: $input) {
    __typename
    ... on OrderSuccess { order { id number status { name } channelChain { position contact { displayName } } } }
    ... on UserError { code field message }
  }
}
"""
