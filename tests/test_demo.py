"""The demo data behind `make run`."""

from __future__ import annotations

from sqlalchemy import text

from app import demo
from tests.factories import load_demo
from tests.support.api import gql, post

COMMISSIONS = """
{ orders(first: 20, filter: {status: ["completed"]}) {
    nodes { commissions { level rate beneficiary { displayName } status { name } } } } }
"""


async def test_demo_data_and_tokens(client, sessions, session) -> None:
    async with sessions() as s:
        assert await demo.is_empty(session=s)
    contacts, tokens = await load_demo(sessions, with_orders=True)
    async with sessions() as s:
        assert not await demo.is_empty(session=s)
    for partner in ("Groendus", "Essent", "Eneco", "50five", "Alva"):
        assert contacts[partner].contact_subtype == "Partner"
    dealers = (
        await session.execute(
            text("SELECT count(*) FROM contact WHERE contact_subtype = 'Dealer' AND contact_type = 'organization'")
        )
    ).scalar_one()
    assert dealers >= 10
    assert set(tokens) == {"admin", "finance", "planner", "partner", "dealer", "customer"}
    statuses = (await session.execute(text("SELECT number, status FROM sales_order ORDER BY number"))).all()
    assert len(statuses) == len(demo.DEMO_ORDERS)
    assert {s for _, s in statuses} >= {"scheduled", "completed", "cancelled", "shipped", "intake"}
    data = await gql(
        client,
        "{ orders(first: 20) { nodes { number lines { description } totals { gross } } } }",
        token=tokens["admin"],
    )
    assert all(o["lines"] and o["totals"]["gross"] != "0.00" for o in data["orders"]["nodes"])
    first = next(o for o in data["orders"]["nodes"] if o["number"].startswith("CC-") and o["number"].endswith("00001"))
    # lines come back in the order they were added, even within one transaction
    assert [x["description"] for x in first["lines"]] == [name for _, name, *_ in demo.CATALOGUE["CC"]]
    orders = await gql(client, "{ orders { totalCount } }", token=tokens["dealer"])
    # the two orders through its chain, and the one whose end customer (Joris Jansen) sits below it
    assert orders["orders"]["totalCount"] == 3

    # invoices in every state, an overdue one, a credit note (docs/finance.md)
    billed = await gql(
        client,
        "{ invoices(first: 50) { nodes { number status { name } isOverdue creditNotes { number } } } }",
        token=tokens["finance"],
    )
    invoices = billed["invoices"]["nodes"]
    assert {i["status"]["name"] for i in invoices} == {"issued", "partially_paid", "paid", "credited"}
    assert any(i["isOverdue"] for i in invoices) and any(i["creditNotes"] for i in invoices)

    # the completed channel orders have their commissions: one paid, one approved, the rest pending
    overview = await gql(client, COMMISSIONS, token=tokens["admin"])
    statuses = sorted(c["status"]["name"] for o in overview["orders"]["nodes"] for c in o["commissions"])
    assert statuses == ["approved", "paid"] + ["pending"] * 4
    # the dealer's own level only: never the commissions of its upline
    dealer = await gql(client, COMMISSIONS, token=tokens["dealer"])
    assert [
        (c["level"], c["beneficiary"]["displayName"], c["rate"])
        for o in dealer["orders"]["nodes"]
        for c in o["commissions"]
    ] == [(1, "Snellader Service Haren", "0.0500")]
    for key, token in tokens.items():
        data = await gql(client, "{ viewer { roles } }", token=token)
        expected = {"admin": "ADMIN", "finance": "FINANCE", "planner": "STAFF", "customer": "CUSTOMER"}.get(
            key, "PARTNER"
        )
        assert data["viewer"]["roles"] == [expected]

    # a new `make run` issues new tokens and revokes the previous demo tokens
    async with sessions() as s, s.begin():
        fresh = await demo.issue_demo_tokens(session=s)
    assert (await post(client, "{ viewer { roles } }", token=tokens["admin"])).status_code == 401
    assert (await post(client, "{ viewer { roles } }", token=fresh[0][1])).status_code == 200
