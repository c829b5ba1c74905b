"""A partner's use of the API: every call logged, a rate limit per organisation that holds across
API processes, answered 429 with Retry-After and a typed, retryable error."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text

from app.partners.usage import retry_after
from app.serving import served
from tests.partners.support import INTAKE, configure, order_input
from tests.support.api import gql, post

ORDERS = "query Portal { orders(first: 5) { totalCount } }"

CALLS = """
query ($filter: PartnerApiCallFilterInput) {
  partnerApiCalls(filter: $filter, first: 50) {
    totalCount
    nodes { requestId operation outcome statusCode durationMs at organization { displayName } }
  }
}"""


async def _calls(client: httpx.AsyncClient, token: str, **filter_in: object) -> dict:
    return (await gql(client, CALLS, {"filter": filter_in or None}, token=token))["partnerApiCalls"]


async def test_every_partner_call_is_logged_with_its_outcome_and_seen_within_scope(
    client, sessions, demo, admin_token
) -> None:
    contacts, tokens = demo
    await configure(client, sessions, admin_token, contacts["Snellader Service Haren"])
    dealer, partner = tokens["dealer"], tokens["partner"]

    listed = await post(client, ORDERS, token=dealer)
    assert listed.status_code == 200 and "errors" not in listed.json()
    intake = await post(client, INTAKE, {"input": order_input()}, token=dealer)
    assert intake.json()["data"]["createOrderFromPartner"]["__typename"] == "PartnerOrderAccepted"
    wrong = await post(client, "{ orders { nope } }", token=dealer)
    assert wrong.status_code == 200 and wrong.json()["errors"]
    await post(client, ORDERS, token=admin_token)  # staff: not a partner call
    await post(client, ORDERS, token=tokens["customer"])  # a customer: neither

    calls = await _calls(client, admin_token)
    rows = sorted(calls["nodes"], key=lambda c: c["at"])
    assert [(c["operation"], c["outcome"], c["statusCode"]) for c in rows] == [
        ("query Portal: orders", "OK", 200),
        ("mutation createOrderFromPartner", "OK", 200),
        ("query orders", "ERRORS", 200),  # parsed, refused by validation
    ]
    assert [c["requestId"] for c in rows] == [r.headers["x-request-id"] for r in (listed, intake, wrong)], (
        "each line names its response's request id"
    )
    assert all(c["durationMs"] >= 0 and c["organization"]["displayName"] == "Snellader Service Haren" for c in rows)

    # the dealer sees its own calls (a call is logged once answered), the organisation above it
    # sees them too (and the dealer's read of the log); the customer sees none
    assert (await _calls(client, dealer))["totalCount"] == 3
    assert (await _calls(client, partner))["totalCount"] == 4
    assert (await _calls(client, tokens["customer"]))["totalCount"] == 0
    errors = await _calls(client, admin_token, outcome=["ERRORS"])
    assert errors["totalCount"] == 1


async def test_over_the_limit_a_call_is_refused_with_retry_after_and_runs_nothing(
    client, sessions, demo, admin_token
) -> None:
    contacts, tokens = demo
    await configure(client, sessions, admin_token, contacts["Snellader Service Haren"], rateLimitPerMinute=3)
    dealer = tokens["dealer"]

    remaining = []
    for _ in range(3):
        answer = await post(client, ORDERS, token=dealer)
        assert answer.status_code == 200
        assert answer.headers["x-ratelimit-limit"] == "3"
        remaining.append(int(answer.headers["x-ratelimit-remaining"]))
    assert remaining == [2, 1, 0]

    refused = await post(client, INTAKE, {"input": order_input()}, token=dealer)
    assert refused.status_code == 429
    wait = int(refused.headers["retry-after"])
    assert 1 <= wait <= 120
    error = refused.json()["errors"][0]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryable": True, "retryAfterSeconds": wait}
    assert refused.headers["x-request-id"]
    async with sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM sales_order")) == 0, "a refused call runs nothing"
        logged = (await session.execute(text("SELECT outcome, status_code FROM partner_api_call ORDER BY id"))).all()
    assert [tuple(r) for r in logged] == [("ok", 200)] * 3 + [("rate_limited", 429)]

    # another organisation has a budget of its own (the default); staff are never limited
    assert (await post(client, ORDERS, token=tokens["partner"])).status_code == 200
    assert (await post(client, ORDERS, token=admin_token)).status_code == 200


def test_retry_after_is_when_the_sliding_estimate_admits_a_call() -> None:
    # a quarter into the minute, the previous minute's 20 calls weigh 15: the estimate falls
    # below the limit of 10 once (1 - t) * 20 + 1 <= 10, at t = 0.55: 18 s later
    assert retry_after(10, 20, 0, 0.25) == 18
    # this minute's own 10 calls fill the limit: into the next minute, until 10 * (1 - t) + 1 <= 10
    assert retry_after(10, 0, 10, 0.5) == 36
    assert retry_after(10, 0, 9, 0.999) == 1, "never less than a second"


async def test_the_limit_holds_across_api_processes(client, sessions, demo, admin_token, database_url) -> None:
    """Two API servers, 24 calls at once split between them, a limit of 10: ten get through."""
    contacts, tokens = demo
    await configure(client, sessions, admin_token, contacts["Snellader Service Haren"], rateLimitPerMinute=10)
    headers = {"Authorization": f"Bearer {tokens['dealer']}"}
    with served(database_url) as one, served(database_url) as two:
        async with httpx.AsyncClient(timeout=30) as http:

            async def call(base: str) -> int:
                answer = await http.post(f"{base}/graphql", json={"query": ORDERS}, headers=headers)
                return answer.status_code

            codes = await asyncio.gather(*(call(base) for base in [one.base_url, two.base_url] * 12))
    assert sorted(codes) == [200] * 10 + [429] * 14
    async with sessions() as session:
        counted = await session.scalar(text("SELECT sum(calls) FROM partner_rate_window"))
        logged = await session.scalar(text("SELECT count(*) FROM partner_api_call"))
    assert (counted, logged) == (10, 24)
