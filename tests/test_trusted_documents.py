"""Trusted documents (graphql_schema/trusted.py): with a manifest configured, partner and
customer tokens run registered documents only, named by id or sent as the same text; staff keep
free queries; an unknown document is refused before anything is parsed."""

from __future__ import annotations

import json

import httpx
import pytest

from app import cli
from app.asgi import create_app
from tests.support.api import gql

PORTAL_ORDERS = """query PortalOrders($first: Int) {
  orders(first: $first) { totalCount nodes { ...OrderCard } }
}
"""
FRAGMENTS = """fragment OrderCard on Order { number ...Parties }
fragment Parties on Order { accountContact { displayName } }
fragment Unused on Contact { id }
"""


@pytest.fixture
def manifest(tmp_path) -> tuple[dict[str, str], object]:
    (tmp_path / "orders.graphql").write_text(PORTAL_ORDERS)
    (tmp_path / "fragments.graphql").write_text(FRAGMENTS)
    output = tmp_path / "trusted.json"
    cli.main(["trusted-documents", str(tmp_path / "orders.graphql"), str(tmp_path / "fragments.graphql"),
              "--output", str(output)])  # fmt: skip
    return json.loads(output.read_text()), output


def test_the_manifest_holds_each_operation_with_the_fragments_it_spreads(manifest) -> None:
    documents, _ = manifest
    [(key, text)] = documents.items()
    assert key.startswith("sha256:") and len(key) == 7 + 64
    assert "query PortalOrders" in text and "fragment OrderCard" in text and "fragment Parties" in text
    assert "Unused" not in text


async def test_portal_tokens_run_registered_documents_only(engine, settings, demo, manifest, count_statements) -> None:
    documents, path = manifest
    [(key, text)] = documents.items()
    contacts, tokens = demo
    app = create_app(engine=engine, settings=settings.model_copy(update={"trusted_documents": path}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:

        async def ask(token: str, body: dict) -> httpx.Response:
            return await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})

        partner = tokens["partner"]
        by_id = await ask(partner, {"documentId": key, "variables": {"first": 2}})
        assert by_id.status_code == 200 and "errors" not in by_id.json(), by_id.json()
        same_text = await ask(partner, {"query": text, "variables": {"first": 2}})
        assert same_text.json()["data"] == by_id.json()["data"]
        apollo = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": key.removeprefix("sha256:")}}}
        assert (await ask(partner, {**apollo, "variables": {"first": 2}})).json()["data"] == by_id.json()["data"]

        for token in (partner, tokens["customer"]):
            with count_statements() as counter:
                free = await ask(token, {"query": "{ contacts { totalCount } }"})
            assert free.status_code == 403
            assert free.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
            ran = [s for s in counter.statements if "api_token" not in s and "partner_" not in s]
            assert ran == []  # the token lookup and the partner's rate and call log: nothing of the query
        unknown = await ask(partner, {"documentId": "sha256:" + "0" * 64})
        assert unknown.status_code == 400
        assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_DOCUMENT_NOT_FOUND"

        staff = await ask(tokens["admin"], {"query": "{ contacts { totalCount } }"})
        assert staff.status_code == 200 and staff.json()["data"]["contacts"]["totalCount"] > 0
        assert (await ask(tokens["admin"], {"documentId": key, "variables": {"first": 1}})).status_code == 200


async def test_without_a_manifest_every_viewer_sends_its_own_queries(client, demo) -> None:
    _, tokens = demo
    assert "contacts" in await gql(client, "{ contacts { totalCount } }", token=tokens["partner"])
