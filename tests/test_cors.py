"""CORS for the partner portals, which run in browsers on other origins: only the configured
origins may call the API from a page, and they may read the headers a client needs."""

from __future__ import annotations

import httpx

from app.asgi import create_app

PORTAL = "https://portal.50five.example"


async def _client(engine, settings, **update) -> httpx.AsyncClient:
    app = create_app(engine=engine, settings=settings.model_copy(update=update))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_a_configured_origin_may_call_and_read_the_answer(engine, settings, admin_token) -> None:
    async with await _client(engine, settings, cors_origins=(PORTAL,)) as http:
        preflight = await http.options(
            "/graphql",
            headers={
                "Origin": PORTAL,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == PORTAL
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "idempotency-key"} <= {h.strip() for h in allowed.split(",")}
        assert "access-control-allow-credentials" not in preflight.headers  # tokens are headers, not cookies

        answer = await http.post(
            "/graphql",
            json={"query": "{ viewer { roles } }"},
            headers={"Origin": PORTAL, "Authorization": f"Bearer {admin_token}"},
        )
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == PORTAL
        assert "x-request-id" in answer.headers["access-control-expose-headers"].lower()


async def test_another_origin_is_not_allowed(engine, settings) -> None:
    async with await _client(engine, settings, cors_origins=(PORTAL,)) as http:
        preflight = await http.options(
            "/graphql", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 400 and "access-control-allow-origin" not in preflight.headers
        answer = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in answer.headers


async def test_without_configured_origins_no_page_may_call(engine, settings) -> None:
    async with await _client(engine, settings) as http:
        answer = await http.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": PORTAL})
        assert "access-control-allow-origin" not in answer.headers
