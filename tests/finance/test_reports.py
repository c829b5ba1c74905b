"""Finance reports: outstanding invoices by age, and the monthly summary recomputed here from the
tables, independently of app/finance/reports.py."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import text

from app.accounts.models import Role
from app.finance.service import today
from tests.factories import brand_id, gid, issue_token
from tests.support.api import CHANGE, add_line, bill, gql, walk

RECORD = """
mutation ($input: RecordPaymentInput!) { recordPayment(input: $input) { __typename } }
"""
CREDIT = """
mutation ($input: CreditInvoiceInput!) { creditInvoice(input: $input) { __typename } }
"""
OUTSTANDING = """
query ($brand: ID) {
  outstandingInvoices(businessEntityId: $brand) {
    asOf
    ageing { notDue days1To30 days31To60 days61To90 over90 total invoiceCount }
    perBrand { businessEntity { code } ageing { total invoiceCount } }
    perAccount(first: 10) { totalCount nodes { account { displayName } ageing { total days31To60 over90 } } }
  }
}
"""
SUMMARY = """
query ($brand: ID!, $month: String!) {
  financialSummary(businessEntityId: $brand, month: $month) {
    month businessEntity { code }
    invoicedNet invoicedVat { rate base amount } invoicedGross
    creditedNet creditedVat { rate base amount } creditedGross
    received refunded outstandingAtMonthEnd commissionsAccrued commissionsPaid
  }
}
"""
CENT = Decimal("0.01")


@pytest.fixture
async def finance(sessions) -> str:
    return await issue_token(sessions, Role.FINANCE)


async def _order(client, create_order, token, account, *lines) -> str:
    order = (await create_order(token, account=account))["order"]["id"]
    for price, vat in lines:
        await add_line(client, token, order, price, vatRate=vat)
    return order


async def _backdate(session, number: str, days: int) -> None:
    """Issued `days` earlier, as an imported history would have it (only its dates move)."""
    await session.execute(text("ALTER TABLE invoice DISABLE TRIGGER invoice_issued"))
    await session.execute(
        text(
            "UPDATE invoice SET issue_date = issue_date - CAST(:d AS integer), "
            "due_date = due_date - CAST(:d AS integer) WHERE number = :n"
        ),
        {"d": days, "n": number},
    )
    await session.execute(text("ALTER TABLE invoice ENABLE TRIGGER invoice_issued"))
    await session.commit()


async def test_outstanding_invoices_by_age(client, create_order, demo, finance, session, sessions) -> None:
    contacts, tokens = demo
    admin = tokens["admin"]
    brand = gid("BusinessEntity", await brand_id(sessions, "CC"))
    numbers = []
    for account, price, late in (("Groendus", "100.00", 0), ("Groendus", "200.00", 45), ("Essent", "300.00", 120)):
        order = await _order(client, create_order, admin, contacts[account], (price, "21"))
        invoice = await bill(client, finance, order)
        numbers.append(invoice)
        if late:
            await _backdate(session, invoice["number"], 14 + late)  # due `late` days ago
    # half of the 45-day one is paid
    await gql(
        client,
        RECORD,
        {"input": {"businessEntityId": brand, "amount": "121.00", "paidOn": today().isoformat(), "method": "IDEAL",
                   "allocations": [{"documentId": numbers[1]["id"], "amount": "121.00"}]}},
        token=finance,
    )  # fmt: skip
    report = (await gql(client, OUTSTANDING, {"brand": brand}, token=finance))["outstandingInvoices"]
    assert report["asOf"] == today().isoformat()
    assert report["ageing"] == {
        "notDue": "121.00",
        "days1To30": "0.00",
        "days31To60": "121.00",
        "days61To90": "0.00",
        "over90": "363.00",
        "total": "605.00",
        "invoiceCount": 3,
    }
    assert report["perBrand"] == [{"businessEntity": {"code": "CC"}, "ageing": {"total": "605.00", "invoiceCount": 3}}]
    assert report["perAccount"]["nodes"] == [
        {"account": {"displayName": "Essent"}, "ageing": {"total": "363.00", "days31To60": "0.00", "over90": "363.00"}},
        {
            "account": {"displayName": "Groendus"},
            "ageing": {"total": "242.00", "days31To60": "121.00", "over90": "0.00"},
        },
    ]
    # a partner sees the ageing of its own orders' invoices only: none of these
    partner = (await gql(client, OUTSTANDING, {"brand": brand}, token=tokens["partner"]))["outstandingInvoices"]
    assert partner["ageing"]["invoiceCount"] == 0


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


async def _recompute(session, brand: str, first, last) -> dict:
    """The summary from the tables, by the rules of docs/finance.md, written here once more."""

    async def one(sql: str, **params) -> Decimal:
        value = (await session.execute(text(sql), {"b": brand, "f": first, "l": last, **params})).scalar_one()
        return Decimal(value or 0).quantize(CENT)

    docs = "FROM invoice WHERE business_entity_id = :b AND issue_date BETWEEN :f AND :l AND kind = :k"
    vat: dict[str, dict] = {}
    for kind in ("invoice", "credit_note"):
        lines = (
            await session.execute(
                text(
                    "SELECT l.invoice_id, l.vat_rate, l.net_amount FROM invoice_line l JOIN invoice i "
                    "ON i.id = l.invoice_id WHERE i.business_entity_id = :b AND i.issue_date BETWEEN :f AND :l "
                    "AND i.kind = :k"
                ),
                {"b": brand, "f": first, "l": last, "k": kind},
            )
        ).all()
        per_doc: dict = defaultdict(lambda: defaultdict(Decimal))
        for invoice_id, rate, net in lines:
            per_doc[invoice_id][rate] += net
        per_rate: dict = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for rates in per_doc.values():
            for rate, base in rates.items():
                per_rate[rate][0] += base
                per_rate[rate][1] += half_up(base * rate / 100)
        vat[kind] = {
            f"{rate.normalize():f}": (f"{base:.2f}", f"{amount:.2f}") for rate, (base, amount) in per_rate.items()
        }
    owed = (
        await session.execute(
            text(
                "SELECT i.gross_amount"
                " + coalesce((SELECT sum(c.gross_amount) FROM invoice c WHERE c.credits_invoice_id = i.id"
                "             AND c.issue_date <= :l), 0)"
                " - coalesce((SELECT sum(a.amount) FROM payment_allocation a WHERE a.invoice_id = i.id"
                "             AND a.allocated_on <= :l), 0)"
                " + coalesce((SELECT sum(a.amount) FROM payment_allocation a JOIN invoice c ON c.id = a.invoice_id"
                "             WHERE c.credits_invoice_id = i.id AND a.allocated_on <= :l), 0)"
                " FROM invoice i WHERE i.business_entity_id = :b AND i.kind = 'invoice' AND i.issue_date <= :l"
            ),
            {"b": brand, "l": last},
        )
    ).scalars()
    return {
        "invoicedNet": await one(f"SELECT sum(net_amount) {docs}", k="invoice"),
        "invoicedGross": await one(f"SELECT sum(gross_amount) {docs}", k="invoice"),
        "creditedNet": await one(f"SELECT sum(net_amount) {docs}", k="credit_note"),
        "creditedGross": await one(f"SELECT sum(gross_amount) {docs}", k="credit_note"),
        "invoicedVat": vat["invoice"],
        "creditedVat": vat["credit_note"],
        "received": await one(
            "SELECT sum(amount) FROM payment WHERE business_entity_id = :b AND paid_on BETWEEN :f AND :l "
            "AND direction = 'incoming'"
        ),
        "refunded": await one(
            "SELECT sum(amount) FROM payment WHERE business_entity_id = :b AND paid_on BETWEEN :f AND :l "
            "AND direction = 'outgoing'"
        ),
        "outstandingAtMonthEnd": sum((max(Decimal(o), Decimal(0)) for o in owed), Decimal(0)).quantize(CENT),
        "commissionsAccrued": await one(
            "SELECT sum(amount) FROM partner_commission WHERE business_entity_id = :b AND status <> 'cancelled' "
            "AND (created_at AT TIME ZONE 'Europe/Amsterdam')::date BETWEEN :f AND :l"
        ),
        "commissionsPaid": await one(
            "SELECT sum(c.amount) FROM partner_commission c WHERE c.business_entity_id = :b AND EXISTS ("
            "SELECT 1 FROM status_transition t WHERE t.entity_type = 'partner_commission' AND t.entity_id = c.id "
            "AND t.to_status = 'paid' AND (t.created_at AT TIME ZONE 'Europe/Amsterdam')::date BETWEEN :f AND :l)"
        ),
    }


async def test_the_financial_summary_equals_its_documents(
    client, create_order, demo, chain, finance, session, sessions
) -> None:
    contacts, tokens = demo
    admin = tokens["admin"]
    brand_uuid = await brand_id(sessions, "CC")
    brand = gid("BusinessEntity", brand_uuid)
    # an order through the chain, completed (billed on its way): commissions accrue; one is paid
    channel_order = (await create_order(admin, account=chain[0], channel=chain[:2]))["order"]["id"]
    await add_line(client, admin, channel_order, "1000.00")
    await add_line(client, admin, channel_order, "45.00", vatRate="9")
    await walk(client, admin, channel_order, ("quoted", "accepted", "scheduled", "installing", "installed", "invoiced"))
    await walk(client, finance, channel_order, ("completed",))
    commissions = (
        await gql(
            client, "query ($id: ID!) { order(id: $id) { commissions { id } } }", {"id": channel_order}, token=admin
        )
    )["order"]["commissions"]
    assert commissions
    for status in ("approved", "paid"):
        await gql(
            client,
            CHANGE,
            {"input": {"entityType": "PARTNER_COMMISSION", "entityId": commissions[0]["id"], "toStatus": status}},
            token=finance,
        )
    # another order: billed, partly credited, partly paid, an overpayment refunded
    other = await _order(
        client, create_order, admin, contacts["Groendus"], ("333.33", "21"), ("10.05", "9"), ("99.99", "0")
    )
    invoice = await bill(client, finance, other)
    lines_query = "query ($id: ID!) { node(id: $id) { ... on Invoice { lines { id } } } }"
    lines = (await gql(client, lines_query, {"id": invoice["id"]}, token=finance))["node"]["lines"]
    credit = {"invoiceId": invoice["id"], "reason": "discount", "lineIds": [lines[1]["id"]]}
    await gql(client, CREDIT, {"input": credit}, token=finance)
    await gql(
        client,
        RECORD,
        {"input": {"businessEntityId": brand, "amount": "150.00", "paidOn": today().isoformat(), "method": "IDEAL",
                   "allocations": [{"documentId": invoice["id"], "amount": "150.00"}]}},
        token=finance,
    )  # fmt: skip
    await gql(
        client,
        RECORD,
        {"input": {"businessEntityId": brand, "amount": "20.00", "paidOn": today().isoformat(), "method": "CASH",
                   "direction": "OUTGOING", "contactId": gid("Contact", contacts["Groendus"].id)}},
        token=finance,
    )  # fmt: skip

    month = today().strftime("%Y-%m")
    first = today().replace(day=1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    summary = (await gql(client, SUMMARY, {"brand": brand, "month": month}, token=finance))["financialSummary"]
    expected = await _recompute(session, str(brand_uuid), first, last)
    assert summary["month"] == month and summary["businessEntity"] == {"code": "CC"}
    for key in ("invoicedNet", "invoicedGross", "creditedNet", "creditedGross", "received", "refunded",
                "outstandingAtMonthEnd", "commissionsAccrued", "commissionsPaid"):  # fmt: skip
        assert Decimal(summary[key]) == expected[key], key
    for key, kind in (("invoicedVat", "invoicedVat"), ("creditedVat", "creditedVat")):
        assert {v["rate"]: (v["base"], v["amount"]) for v in summary[key]} == expected[kind], key
    # and the figures are not trivially zero
    assert Decimal(summary["invoicedNet"]) > 0 and Decimal(summary["creditedNet"]) < 0
    assert Decimal(summary["received"]) == Decimal("150.00") and Decimal(summary["refunded"]) == Decimal("20.00")
    assert Decimal(summary["commissionsPaid"]) > 0 and len(summary["invoicedVat"]) == 3


async def test_the_summary_is_for_staff_and_checks_its_month(client, demo, finance, sessions) -> None:
    _, tokens = demo
    brand = gid("BusinessEntity", await brand_id(sessions, "CC"))
    response = await client.post(
        "/graphql",
        json={"query": SUMMARY, "variables": {"brand": brand, "month": "2026-13"}},
        headers={"Authorization": f"Bearer {finance}"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    response = await client.post(
        "/graphql",
        json={"query": SUMMARY, "variables": {"brand": brand, "month": "2026-11"}},
        headers={"Authorization": f"Bearer {tokens['partner']}"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
