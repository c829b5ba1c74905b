"""The query cost limit (graphql_schema/cost.py): every answer reports the operation's estimated
cost; an operation over the limit is refused before anything is resolved."""

from __future__ import annotations

import httpx

from app.asgi import create_app
from tests.support.api import post

NESTED = """query ($contacts: Int, $orders: Int) {
  contacts(first: $contacts) { nodes { displayName orders(first: $orders) { nodes { number lines { description } } } } }
}"""


async def test_the_cost_is_reported_and_follows_the_pages_asked(client, admin_token) -> None:
    small = (await post(client, NESTED, {"contacts": 2, "orders": 3}, token=admin_token)).json()
    # the connection, 2 contacts, 2 order connections, 2 × 3 orders, 10 lines counted for each order
    assert small["extensions"]["cost"] == {"requested": 1 + 2 + 2 + 2 * 3 + 2 * 3 * 10, "limit": 200_000}
    default = (await post(client, NESTED, {}, token=admin_token)).json()  # pages of 20
    assert default["extensions"]["cost"]["requested"] == 1 + 20 + 20 + 20 * 20 + 20 * 20 * 10


async def test_an_operation_over_the_limit_runs_nothing(engine, settings, admin_token, count_statements) -> None:
    app = create_app(engine=engine, settings=settings.model_copy(update={"max_query_cost": 500}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        with count_statements() as counter:
            answer = await http.post(
                "/graphql",
                json={"query": NESTED, "variables": {"contacts": 100, "orders": 100}},
                headers={"Authorization": f"Bearer {admin_token}"},
            )
        body = answer.json()
        assert body["data"] is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
        assert "estimated cost is 110201, over the limit of 500" in error["message"]
        assert body["extensions"]["cost"] == {"requested": 110201, "limit": 500}
        assert all("api_token" in statement for statement in counter.statements)  # the token lookup only

        fits = await http.post(
            "/graphql",
            json={"query": NESTED, "variables": {"contacts": 5, "orders": 5}},
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        assert "errors" not in fits.json() and fits.json()["extensions"]["cost"]["requested"] == 286
