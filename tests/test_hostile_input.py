"""Hostile input costs nothing, through a real uvicorn server: documents that expand
exponentially, malformed bodies, values that must never reach SQL or arithmetic. Each gets a
GraphQL-shaped error with a code, quickly, and changes nothing."""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.contacts.models import Contact
from app.orders.models import LineItem
from tests.factories import brand_id, gid
from tests.support.api import CREATE_ORDER

BUDGET_S = 1.0
"""Time for a refusal, and the longest /healthz may wait meanwhile (before: 7.8 s at 21
fragment levels, forever at 39)."""


# --- documents ----------------------------------------------------------------------------------


def doubling(levels: int, fan_out: int = 2) -> str:
    spreads = lambda i: " ".join(f"...L{i - 1}" for _ in range(fan_out))  # noqa: E731
    fragments = ["fragment L0 on Query { __typename }"]
    fragments += [f"fragment L{i} on Query {{ {spreads(i)} }}" for i in range(1, levels + 1)]
    return f"{{ ...L{levels} }}\n" + "\n".join(fragments)


def wide(copies: int, inline: bool) -> str:
    selection = "contacts { nodes { id } }"
    if inline:
        return "{ " + " ".join(f"... on Query {{ {selection} }}" for _ in range(copies)) + " }"
    spreads = " ".join(f"...F{i}" for i in range(copies))
    return f"{{ {spreads} }}\n" + "\n".join(f"fragment F{i} on Query {{ {selection} }}" for i in range(copies))


def deep(levels: int) -> str:
    inner = "id"
    for _ in range(levels):
        inner = f"parent {{ {inner} }}"
    return f"{{ contacts {{ nodes {{ {inner} }} }} }}"


class HealthProbe:
    """Polls /healthz from another thread and keeps the slowest answer."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.slowest = 0.0
        self.answers = 0
        self._stop = threading.Event()
        self._first = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                assert client.get("/healthz").status_code == 200
                self.slowest = max(self.slowest, time.perf_counter() - started)
                self.answers += 1
                self._first.set()
                time.sleep(0.01)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        assert self._first.wait(30), "/healthz did not answer"
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()


def refused_in_time(client: httpx.Client, query: str) -> dict[str, Any]:
    started = time.perf_counter()
    response = client.post("/graphql", json={"query": query})
    elapsed = time.perf_counter() - started
    assert elapsed < BUDGET_S, (elapsed, query[:200])
    assert response.status_code == 200
    [error] = response.json()["errors"]
    # past the token limit the parser refuses it; under it, the document limits do
    assert error["extensions"]["code"] in ("GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"), error
    return error


DOCUMENTS = st.one_of(
    st.builds(doubling, st.integers(min_value=11, max_value=200), st.integers(min_value=2, max_value=4)),
    st.builds(wide, st.integers(min_value=60, max_value=350), st.booleans()),
    st.builds(deep, st.integers(min_value=14, max_value=120)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=DOCUMENTS)
def test_expanding_wide_and_deep_documents_are_refused_quickly_while_healthz_answers(server, query) -> None:
    with httpx.Client(base_url=server, timeout=60) as client, HealthProbe(server) as probe:
        refused_in_time(client, query)
    assert probe.slowest < BUDGET_S, probe.slowest


def test_the_reported_reproducers(server) -> None:
    with httpx.Client(base_url=server, timeout=60) as client, HealthProbe(server) as probe:
        for levels in (21, 39):
            error = refused_in_time(client, doubling(levels))
            assert "more than 1000 fields" in error["message"]
        error = refused_in_time(client, "{ ...Nope }")
        assert error["message"] == "Unknown fragment 'Nope'."
        error = refused_in_time(client, "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
        assert error["message"] == "Cannot spread fragment 'A' within itself via 'B'."
    assert probe.answers > 0 and probe.slowest < BUDGET_S


def test_documents_within_the_limits_still_run(server) -> None:
    with httpx.Client(base_url=server, timeout=60) as client:
        # introspection as GraphiQL sends it, anonymously
        from graphql import get_introspection_query

        body = client.post("/graphql", json={"query": get_introspection_query(descriptions=True)}).json()
        assert "errors" not in body and body["data"]["__schema"]["queryType"]["name"] == "Query"
        body = client.post("/graphql", json={"query": wide(20, inline=True)}).json()  # 570 pairs to merge
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"  # validated, then asked for a token


# --- malformed requests ---------------------------------------------------------------------------

MALFORMED: list[tuple[str, bytes, dict[str, str], int]] = [
    ("null", b"null", {}, 400),
    ("a number", b"42", {}, 400),
    ("a string", b'"x"', {}, 400),
    ("a boolean", b"true", {}, 400),
    ("a batch of numbers", b"[1]", {}, 400),
    ("a batch of batches", b'[[{"query": "{ __typename }"}]]', {}, 400),
    ("an empty batch", b"[]", {}, 400),
    ("invalid UTF-8", b'{"query": "\xff{ __typename }"}', {}, 400),
    ("JSON nested 2,000 deep", b'{"query": "{ __typename }", "x": ' + b"[" * 2000 + b"]" * 2000 + b"}", {}, 400),
    ("an integer of 5,000 digits", b'{"query": "{ __typename }", "x": ' + b"9" * 5000 + b"}", {}, 400),
    ("NaN", b'{"query": "{ __typename }", "x": NaN}', {}, 400),
    ("not JSON", b"{not json", {}, 400),
    ("a query that is not a string", b'{"query": 42}', {}, 400),
    ("variables that are not an object", b'{"query": "{ __typename }", "variables": [1]}', {}, 400),
    ("another media type", b'{"query": "{ __typename }"}', {"Content-Type": "text/plain"}, 415),
    ("two Authorization headers", b'{"query": "{ __typename }"}', {"Authorization": "Bearer a, Bearer b"}, 400),
]


def _exchange(base: str, body: bytes, headers: dict[str, str]) -> tuple[http.client.HTTPResponse, bytes, bool]:
    """POST `body`, then a valid request on the same connection: the answer to the first, its
    body, and whether the connection carried the second one."""
    parts = urlsplit(base)
    assert parts.hostname is not None
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest("POST", "/graphql")
        conn.putheader("Content-Type", headers.pop("Content-Type", "application/json"))
        conn.putheader("Content-Length", str(len(body)))
        for name, value in headers.items():
            for one in value.split(", ") if name == "Authorization" else [value]:
                conn.putheader(name, one)
        conn.endheaders(body)
        response = conn.getresponse()
        content = response.read()
        socket_before = conn.sock
        conn.request(
            "POST", "/graphql", body=b'{"query": "{ __typename }"}', headers={"Content-Type": "application/json"}
        )
        second = conn.getresponse()
        assert json.loads(second.read())["data"] == {"__typename": "Query"}
        return response, content, socket_before is not None and conn.sock is socket_before
    finally:
        conn.close()


@pytest.mark.parametrize(("body", "headers", "status"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_requests_get_a_graphql_error_and_a_reusable_connection(server, body, headers, status) -> None:
    response, content, reused = _exchange(server, body, dict(headers))
    assert response.status == status
    assert response.getheader("Content-Type") == "application/json"
    assert len(response.getheader("X-Request-Id") or "") == 32
    payload = json.loads(content)
    assert payload["data"] is None
    assert payload["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    assert reused, "the connection was dropped"


def test_a_body_over_the_cap_is_refused_before_it_is_read(server) -> None:
    search = "x" * 10_000_000
    body = json.dumps(
        {"query": "query ($s: String) { contacts(filter: {search: $s}) { totalCount } }", "variables": {"s": search}}
    ).encode()
    started = time.perf_counter()
    response = httpx.post(f"{server}/graphql", content=body, headers={"Content-Type": "application/json"}, timeout=60)
    assert time.perf_counter() - started < BUDGET_S * 5
    assert response.status_code == 413
    assert response.headers["connection"] == "close"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_media_types_ignore_case(server) -> None:
    response = httpx.post(
        f"{server}/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={"Content-Type": "APPLICATION/JSON; Charset=UTF-8"},
    )
    assert (response.status_code, response.json()["data"]) == (200, {"__typename": "Query"})


# --- values ---------------------------------------------------------------------------------------


async def _post(
    server: str, token: str, query: str, variables: dict[str, Any] | None = None, raw: bytes | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    content = raw if raw is not None else json.dumps({"query": query, "variables": variables or {}}).encode()
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        response = await client.post("/graphql", content=content, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _refusal(body: dict[str, Any]) -> str:
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert body.get("data") is None or not any(body["data"].values()), body
    return error["message"]


BY_NUMBER = "query ($n: String!) { orderByNumber(number: $n) { id } }"
SEARCH = "query ($s: String) { contacts(filter: {search: $s}) { totalCount } }"
CREATE_CONTACT = """mutation ($name: String) {
  createContact(input: {contactType: ORGANIZATION, displayName: $name}) {
    __typename ... on ContactSuccess { contact { displayName } } ... on UserError { field message }
  }
}"""


async def test_strings_that_cannot_be_stored_are_refused_wherever_they_are(server, admin_token, sessions) -> None:
    nul, surrogate = "a\u0000b", "\ud800x"
    assert "`$n` contains a NUL character" in _refusal(await _post(server, admin_token, BY_NUMBER, {"n": nul}))
    raw = b'{"query": "query ($n: String!) { orderByNumber(number: $n) { id } }", "variables": {"n": "\\ud800x"}}'
    assert "lone surrogate (U+D800)" in _refusal(await _post(server, admin_token, "", raw=raw))
    literal = '{ orderByNumber(number: "a\\u0000b") { id } }'  # NUL written in the query text
    assert "`number` contains a NUL character" in _refusal(await _post(server, admin_token, literal))
    cases: list[tuple[str, dict[str, Any]]] = [
        (SEARCH, {"s": nul}),
        ("query ($s: String) { contacts(filter: {subtype: $s}) { totalCount } }", {"s": nul}),
        ("query ($s: [String!]) { orders(filter: {status: $s}) { totalCount } }", {"s": ["new", nul]}),
        (CREATE_CONTACT, {"name": nul}),
        (CREATE_CONTACT, {"name": surrogate}),
        (CREATE_CONTACT, {"name": "x" * 10_001}),
    ]
    for query, variables in cases:
        _refusal(await _post(server, admin_token, query, variables))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Contact)) == 0


async def test_list_arguments_are_bounded(server, admin_token) -> None:
    query = "query ($s: [String!]) { orders(filter: {status: $s}) { totalCount } }"
    assert "`$s` has 40000 items; at most 100" in _refusal(
        await _post(server, admin_token, query, {"s": ["x"] * 40_000})
    )
    body = await _post(server, admin_token, query, {"s": ["x"] * 100})
    assert body["data"] == {"orders": {"totalCount": 0}}
    literal = "{ orders(filter: {status: [" + ", ".join('"x"' for _ in range(101)) + "]}) { totalCount } }"
    assert "has 101 items" in _refusal(await _post(server, admin_token, literal))


async def test_free_text_has_a_length_per_field(server, admin_token) -> None:
    assert (
        _refusal(await _post(server, admin_token, SEARCH, {"s": "x" * 101})) == "filter.search: At most 100 characters."
    )
    assert (await _post(server, admin_token, SEARCH, {"s": "x" * 100}))["data"] == {"contacts": {"totalCount": 0}}
    assert "At most 40 characters" in _refusal(await _post(server, admin_token, BY_NUMBER, {"n": "CC-" + "1" * 40}))


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("Voltara\u202eB.V.", None),  # right-to-left override
        ("Volt\u200bara", None),  # zero-width space
        ("\u001b[31mVoltara", None),  # ESC: a terminal colour sequence
        ("Volt\u0007ara", None),  # BEL
        ("Voltara\r\nB.V.", "Voltara B.V."),
        ("  Voltara\u00a0\tB.V.  ", "Voltara B.V."),
        ("Cafe\u0301", "Caf\u00e9"),  # NFC
    ],
)
async def test_names_hold_no_control_or_invisible_characters(server, admin_token, sessions, name, stored) -> None:
    result = (await _post(server, admin_token, CREATE_CONTACT, {"name": name}))["data"]["createContact"]
    if stored is None:
        assert result["__typename"] == "ValidationError" and result["field"] == "displayName", result
        assert "is not allowed here" in result["message"]
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Contact)) == 0
    else:
        assert result == {"__typename": "ContactSuccess", "contact": {"displayName": stored}}


ADD_LINE = """mutation ($input: AddOrderLineInput!) {
  addOrderLine(input: $input) { __typename ... on UserError { field message } }
}"""


@pytest.fixture
async def order_id(client, sessions, admin_token, demo) -> str:
    contacts, _ = demo
    variables = {
        "input": {
            "businessEntityId": gid("BusinessEntity", await brand_id(sessions, "CC")),
            "accountContactId": gid("Contact", contacts["Eva de Vries"].id),
        }
    }
    response = await client.post(
        "/graphql",
        json={"query": CREATE_ORDER, "variables": variables},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    return response.json()["data"]["createOrder"]["order"]["id"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("vatRate", "sNaN"),
        ("vatRate", "NaN"),
        ("unitPrice", "Infinity"),
        ("quantity", "1e20"),
        ("quantity", "1e1000"),
        ("quantity", "1_000"),
        ("quantity", "\u0661\u0662"),
        ("unitPrice", "12,50"),
        ("quantity", "0x10"),
        ("unitPrice", "1e-13"),
        ("quantity", True),
    ],
)
async def test_decimals_are_plain_ascii_finite_and_in_range(
    server, admin_token, sessions, order_id, field, value
) -> None:
    line = {
        "orderId": order_id,
        "quantity": "1",
        "unitPrice": "0",
        "description": "Cable",
        "vatRate": "21",
        field: value,
    }
    message = _refusal(await _post(server, admin_token, ADD_LINE, {"input": line}))
    assert f".{field}" in message and "Decimal" in message
    literal_value = json.dumps(value) if isinstance(value, str) else "true"
    literal = ADD_LINE.replace("$input: AddOrderLineInput!", "").replace(
        "input: $input",
        "input: {" + ", ".join(f"{k}: {json.dumps(v) if k != field else literal_value}" for k, v in line.items()) + "}",
    )
    literal = literal.replace("mutation ()", "mutation")
    _refusal(await _post(server, admin_token, literal))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(LineItem)) == 0


async def test_decimals_within_the_scalar_are_checked_against_each_field(
    server, admin_token, sessions, order_id
) -> None:
    base = {"orderId": order_id, "quantity": "1", "unitPrice": "0", "description": "Cable", "vatRate": "21"}
    for field, value, api_field in [
        ("quantity", "1e12", "quantity"),
        ("unitPrice", "1e11", "unitPrice"),
        ("quantity", "0.0001", "quantity"),
        ("discountPercent", "101", "discountPercent"),
        ("vatRate", "20", "vatRate"),
    ]:
        result = (await _post(server, admin_token, ADD_LINE, {"input": {**base, field: value}}))["data"]["addOrderLine"]
        assert result["__typename"] == "ValidationError" and result["field"] == api_field, (field, value, result)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(LineItem)) == 0
    ok = await _post(server, admin_token, ADD_LINE, {"input": {**base, "quantity": "999999999.999", "unitPrice": "0"}})
    assert ok["data"]["addOrderLine"]["__typename"] == "OrderLineSuccess"


async def test_numbers_too_long_to_convert_are_refused_before_validation(server, admin_token) -> None:
    body = await _post(server, admin_token, "{ contacts(first: " + "9" * 5000 + ") { totalCount } }")
    assert "`first` is a number of more than 40 characters" in _refusal(body)
