"""`Idempotency-Key` (app/idempotency.py): a retried mutation runs once and gets the first answer;
the key with another request is refused; keys are the account's own and last 24 hours; and
the same holds across two worker processes under 50 concurrent duplicates."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import text

from app.accounts.models import Role
from app.serving import served
from tests.factories import issue_token

CREATE = """mutation ($name: String) {
  createContact(input: {contactType: ORGANIZATION, displayName: $name}) {
    __typename ... on ContactSuccess { contact { id displayName } }
  }
}"""


def _body(name: str) -> dict:
    return {"query": CREATE, "variables": {"name": name}}


async def _contacts(session, name: str) -> int:
    return (
        await session.execute(text("SELECT count(*) FROM contact WHERE display_name = :n"), {"n": name})
    ).scalar_one()


async def _post(client: httpx.AsyncClient, token: str, body: dict, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} | ({"Idempotency-Key": key} if key is not None else {})
    return await client.post("/graphql", json=body, headers=headers)


async def test_a_retry_with_the_same_key_gets_the_first_answer_and_runs_nothing(
    client, admin_token, session, sessions
) -> None:
    key = str(uuid.uuid4())
    first = await _post(client, admin_token, _body("Eén keer BV"), key)
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    again = await _post(client, admin_token, _body("Eén keer BV"), key)
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["x-first-request-id"] == first.headers["x-request-id"] != again.headers["x-request-id"]
    assert await _contacts(session, "Eén keer BV") == 1

    # the same key with another request: refused, nothing ran
    reused = await _post(client, admin_token, _body("Ander BV"), key)
    assert reused.status_code == 422
    [error] = reused.json()["errors"]
    assert error["extensions"] == {"code": "IDEMPOTENCY_KEY_REUSED", "firstRequestId": first.headers["x-request-id"]}
    assert await _contacts(session, "Ander BV") == 0

    # another account's key of the same name is its own
    other = await issue_token(sessions, Role.ADMIN)
    assert (await _post(client, other, _body("Eén keer BV"), key)).headers.get("idempotent-replayed") is None
    assert await _contacts(session, "Eén keer BV") == 2

    # without a key, a retry runs again (what the key is for)
    for _ in range(2):
        await _post(client, admin_token, _body("Zonder sleutel BV"), None)
    assert await _contacts(session, "Zonder sleutel BV") == 2


async def test_a_key_lasts_24_hours(client, admin_token, session) -> None:
    key = "order-2026-0001"
    await _post(client, admin_token, _body("Gisteren BV"), key)
    await session.execute(text("UPDATE idempotency_key SET expires_at = now() - interval '1 second'"))
    await session.commit()
    answer = await _post(client, admin_token, _body("Gisteren BV"), key)
    assert answer.status_code == 200 and "idempotent-replayed" not in answer.headers
    assert await _contacts(session, "Gisteren BV") == 2
    assert (await session.execute(text("SELECT count(*) FROM idempotency_key"))).scalar_one() == 1


async def test_a_malformed_key_is_refused_before_anything_runs(client, admin_token, session) -> None:
    for bad in ("", "x" * 256, "met spatie"):
        answer = await _post(client, admin_token, _body("Nooit BV"), bad)
        assert answer.status_code == 400, bad
        assert answer.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert await _contacts(session, "Nooit BV") == 0


async def test_an_answer_that_was_not_a_service_is_not_kept(client, admin_token, session) -> None:
    """A request refused before it ran (401) is kept like any final answer; a 5xx is not: the
    key stays free for the retry."""
    refused = await client.post(
        "/graphql", json=_body("Zonder token BV"), headers={"Authorization": "Bearer nope", "Idempotency-Key": "k1"}
    )
    assert refused.status_code == 401
    assert (await session.execute(text("SELECT count(*) FROM idempotency_key"))).scalar_one() == 0


async def test_fifty_concurrent_duplicates_on_two_workers_run_once(database_url, sessions, session) -> None:
    token = await issue_token(sessions, Role.ADMIN)
    key = str(uuid.uuid4())
    # two processes, each with its own pool; either may take all 50 connections, so its queue has room
    with served(database_url, workers=2, CHARGECARS_MAX_QUEUED_REQUESTS="64") as api:
        limits = httpx.Limits(max_connections=60)
        async with httpx.AsyncClient(base_url=api.base_url, timeout=60, limits=limits) as http:
            answers = await asyncio.gather(*(_post(http, token, _body("Vijftig keer BV"), key) for _ in range(50)))
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.content for answer in answers}) == 1
    assert sum(answer.headers.get("idempotent-replayed") == "true" for answer in answers) == 49
    first_ids = {answer.headers.get("x-first-request-id") for answer in answers} - {None}
    assert len(first_ids) == 1
    assert await _contacts(session, "Vijftig keer BV") == 1
