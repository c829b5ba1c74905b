"""Generated operations against a real server: queries and mutations of the whole schema, valid
and with one schema violation each, with real and random ids and hostile scalar values, as an
admin and as a partner. Not one may end in a 5xx, an "Unexpected error." or an error without
a code.

`make test` runs a few hundred cases; `make fuzz` runs CHARGECARS_FUZZ_EXAMPLES per persona
and mode (default there: 1,300 × 2 personas × 2 modes = 5,200).
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes
from sqlalchemy import select

from app.operations.models import Document, Quote, Visit, WorkOrder
from app.orders.models import Order
from tests.factories import gid, load_demo
from tests.support.database import ROOT

EXAMPLES = int(os.environ.get("CHARGECARS_FUZZ_EXAMPLES", "60"))
SCHEMA = graphql.build_schema((ROOT / "schema.graphql").read_text())

HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\u0000",
        "\u202e",
        "\u200b",
        "\u001b[31m",
        "NaN",
        "sNaN",
        "-Infinity",
        "1e1000",
        "1_000",
        "\u0661",
        "9" * 60,
        "x" * 10_001,
        "CC-2026-00001",
        "2026-13-45",
        "../../etc/passwd",
        "' OR 1=1 --",
        "%",
        "_",
        "\\",
    ]
)


def _mostly(valid: st.SearchStrategy[str]) -> st.SearchStrategy[graphql.ValueNode]:
    """Valid values three times in four (so that operations get past the arguments), else hostile."""
    return st.one_of(valid, valid, valid, HOSTILE_TEXT).map(nodes.String)


def _scalars(ids: list[str]) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    return {
        "Decimal": _mostly(
            st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**6), max_value=10**6).map(str)
        ),
        "Date": _mostly(st.dates().map(str)),
        "DateTime": _mostly(st.datetimes().map(lambda d: d.isoformat())),
        "JSON": st.one_of(st.just(graphql.ObjectValueNode(fields=())), HOSTILE_TEXT.map(nodes.String)),
        "ID": _mostly(st.sampled_from(ids)),
        # a file is a part of a multipart request; in a JSON body it can only be some literal
        "Upload": HOSTILE_TEXT.map(nodes.String),
    }


@pytest.fixture
async def personas(sessions, engine) -> tuple[dict[str, str], list[str]]:
    """Tokens of an admin and of a partner in the demo hierarchy, and ids that exist."""
    contacts, tokens = await load_demo(sessions, with_orders=True)
    async with sessions() as session:
        orders = (await session.scalars(select(Order.id))).all()
    ids = [gid("Contact", c.id) for c in contacts.values()] + [gid("Order", o) for o in orders]
    async with sessions() as session:  # and the demo's field operations
        for model in (Quote, Visit, WorkOrder, Document):
            ids += [gid(model.__name__, i) for i in (await session.scalars(select(model.id))).all()]
    return {"admin": tokens["admin"], "partner": tokens["dealer"]}, ids


def _check(response: httpx.Response, query: str, outcomes: Counter[str]) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500], query)
    body = response.json()
    for error in body.get("errors") or []:
        assert error["message"] != "Unexpected error.", (error, query)
        assert error.get("extensions", {}).get("code"), (error, query)
        assert error["extensions"]["code"] != "RATE_LIMITED", "the fuzz must reach the schema, not the rate limit"
        outcomes[error["extensions"]["code"]] += 1
    if not body.get("errors"):
        outcomes["ok"] += 1


@pytest.mark.parametrize("persona", ["admin", "partner"])
@pytest.mark.parametrize("mode", [Mode.POSITIVE, Mode.NEGATIVE], ids=["valid", "one-violation"])
def test_generated_operations_never_fail_on_the_server(server, personas, persona, mode) -> None:
    tokens, ids = personas
    outcomes: Counter[str] = Counter()
    strategy = from_schema(SCHEMA, custom_scalars=_scalars(ids), mode=mode)
    with httpx.Client(base_url=server, timeout=60, headers={"Authorization": f"Bearer {tokens[persona]}"}) as client:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @given(query=strategy)
        def run(query: Any) -> None:
            _check(client.post("/graphql", json={"query": query}), query, outcomes)

        run()
    assert sum(outcomes.values()) >= EXAMPLES
    print(f"\n{persona} {mode.name}: {EXAMPLES} operations, outcomes {dict(outcomes)}")
