"""The demo data behind `make run`."""

from __future__ import annotations

from sqlalchemy import text

from app import demo
from app.accounts.service import hash_token
from tests.factories import load_demo
from tests.support.api import gql, post

COMMISSIONS = """
{ orders(first: 20, filter: {status: ["completed"]}) {
    nodes { commissions { level rate beneficiary { displayName } status { name } } } } }
"""


FIELD_OPERATIONS = """
{ orders(first: 20) { nodes { number status { name }
    quotes { revision status { name } visits { status { name } survey { phases } } }
    visits { status { name } installers { displayName } }
    workOrders { status { name } tasks { done } seals { sealNumber action } installation { testsPassed }
                 visits { status { name } } documents { url } } } } }
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
    assert len(statuses) == len(demo.DEMO_ORDERS) + 1  # and the order of the accepted quote
    assert {s for _, s in statuses} >= {"scheduled", "completed", "cancelled", "shipped", "intake", "installed"}
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
    # the two orders through its chain, and the two whose end customer (Joris Jansen, Eva de Vries)
    # sits below it
    assert orders["orders"]["totalCount"] == 4

    # field operations (docs/operations.md): a quote inspected, revised and accepted into an order,
    # whose work order is completed with seals and a photo; a planned visit for the scheduled order
    field = await gql(client, FIELD_OPERATIONS, token=tokens["planner"])
    by_number = {o["number"]: o for o in field["orders"]["nodes"]}
    installed = next(o for o in by_number.values() if o["status"]["name"] == "installed")
    assert [(q["revision"], q["status"]["name"]) for q in installed["quotes"]] == [(1, "superseded"), (2, "accepted")]
    inspection = installed["quotes"][0]["visits"][0]
    assert inspection["status"]["name"] == "done" and inspection["survey"]["phases"] == 3
    [work_order] = installed["workOrders"]
    assert work_order["status"]["name"] == "completed" and all(t["done"] for t in work_order["tasks"])
    assert {(s["sealNumber"], s["action"]) for s in work_order["seals"]} == {
        ("GS-104233", "REMOVED"), ("CC-S-000101", "PLACED"), ("CC-S-000102", "PLACED")
    }  # fmt: skip
    assert work_order["installation"]["testsPassed"] and work_order["visits"][0]["status"]["name"] == "done"
    [photo] = work_order["documents"]
    download = await client.get(photo["url"], headers={"Authorization": f"Bearer {tokens['customer']}"})
    assert download.status_code == 200 and download.headers["content-type"] == "image/jpeg"
    planned = [v for o in by_number.values() for v in o["visits"] if v["status"]["name"] == "planned"]
    assert len(planned) == 1 and len(planned[0]["installers"]) == 2

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

    # a new `make run` of the same database prints the tokens it kept while they are valid
    # (GraphiQL's stored header keeps working); one that is no longer valid is replaced
    async with sessions() as s, s.begin():
        first = await demo.issue_demo_tokens(session=s)
    kept = {account.email: token for account, token in first}
    async with sessions() as s, s.begin():
        again = await demo.issue_demo_tokens(session=s, kept=kept)
    assert again == first
    admin_email = first[0][0].email
    async with sessions() as s, s.begin():
        await s.execute(
            text("UPDATE api_token SET revoked_at = now() WHERE token_hash = :h"), {"h": hash_token(kept[admin_email])}
        )
    async with sessions() as s, s.begin():
        renewed = dict((account.email, token) for account, token in await demo.issue_demo_tokens(session=s, kept=kept))
    assert renewed[admin_email] != kept[admin_email]
    assert all(renewed[email] == token for email, token in kept.items() if email != admin_email)
    assert (await post(client, "{ viewer { roles } }", token=kept[admin_email])).status_code == 401
    assert (await post(client, "{ viewer { roles } }", token=renewed[admin_email])).status_code == 200
    # without what was kept (another machine, a lost file): fresh tokens, the old ones revoked
    async with sessions() as s, s.begin():
        fresh = await demo.issue_demo_tokens(session=s)
    assert (await post(client, "{ viewer { roles } }", token=renewed[admin_email])).status_code == 401
    assert (await post(client, "{ viewer { roles } }", token=fresh[0][1])).status_code == 200
