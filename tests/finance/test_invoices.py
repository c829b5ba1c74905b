"""Invoices and credit notes: what an invoice bills and copies, partial billing, concurrency and the
gapless series, the database guard, credit notes and re-billing, the order's billing state and
the steps that need it, who may issue (docs/finance.md)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.accounts.models import Role
from app.finance.service import today
from tests.factories import gid, issue_token
from tests.support.api import GENERATE_INVOICE, add_line, bill, change, gql, gql_errors

INVOICE = """
query ($id: ID!) {
  node(id: $id) {
    ... on Invoice {
      number issueDate dueDate currency netAmount vatAmount grossAmount openAmount isOverdue pdfUrl
      seller { name street houseNumber postalCode city vatNumber chamberOfCommerceNumber iban }
      buyer { name street houseNumber postalCode city countryCode vatNumber }
      lines { id position description quantity unitPrice discountPercent vatRate netAmount }
      vat { rate base amount }
      status { name }
      creditNotes { number grossAmount reason pdfUrl status { name } lines { quantity netAmount } }
      order { number billingState totals { net vatTotal gross vat { rate base amount } } }
    }
  }
}
"""
CREDIT = """
mutation ($input: CreditInvoiceInput!) {
  creditInvoice(input: $input) {
    __typename
    ... on CreditNoteSuccess {
      creditNote { id number netAmount vatAmount grossAmount reason status { name } invoice { number } }
      invoice { openAmount status { name } }
    }
    ... on UserError { code message field }
  }
}
"""
UPDATE_LINE = """
mutation ($input: UpdateOrderLineInput!) {
  updateOrderLine(input: $input) { __typename ... on LineAlreadyInvoiced { invoiceNumber } ... on UserError { code } }
}
"""
REMOVE_LINE = """
mutation ($input: RemoveOrderLineInput!) {
  removeOrderLine(input: $input) { __typename ... on UserError { code message } }
}
"""
BILLING = "query ($id: ID!) { order(id: $id) { billingState invoices { number } } }"


def year() -> int:
    return today().year


@pytest.fixture
async def finance(sessions) -> str:
    return await issue_token(sessions, Role.FINANCE)


@pytest.fixture
async def order(create_order, demo, client) -> str:
    """A ChargeCars order for Groendus with three lines: 21 % with a discount, 21 %, and 9 %."""
    contacts, tokens = demo
    order_id = (await create_order(tokens["admin"], account=contacts["Groendus"]))["order"]["id"]
    admin = tokens["admin"]
    await add_line(client, admin, order_id, "899.00", discountPercent="5", description="Wallbox 11 kW")
    await add_line(client, admin, order_id, "12.35", quantity="7.5", description="Cable 5x6 mm2")
    await add_line(client, admin, order_id, "45.00", vatRate="9", description="Permit fee")
    return order_id


async def generate(client, token, order_id, line_ids=None):
    variables = {"input": {"orderId": order_id, **({"lineIds": line_ids} if line_ids is not None else {})}}
    return (await gql(client, GENERATE_INVOICE, variables, token=token))["generateInvoice"]


async def credit(client, token, invoice_id, reason="Wrong model billed", line_ids=None):
    variables = {
        "input": {"invoiceId": invoice_id, "reason": reason, **({"lineIds": line_ids} if line_ids is not None else {})}
    }
    return (await gql(client, CREDIT, variables, token=token))["creditInvoice"]


async def invoice_of(client, token, invoice_id):
    return (await gql(client, INVOICE, {"id": invoice_id}, token=token))["node"]


async def test_an_invoice_bills_every_line_and_copies_what_it_bills(client, demo, finance, order, session) -> None:
    contacts, tokens = demo
    await session.execute(
        text(
            "UPDATE contact SET street = 'Energieweg', house_number = '1', postal_code = '3542 DZ', city = 'Utrecht', "
            "vat_number = 'NL001234567B01', payment_terms_days = 30 WHERE display_name = 'Groendus'"
        )
    )
    await session.commit()
    issued = await bill(client, finance, order)
    assert issued["number"] == f"CC-F-{year()}-00001"
    assert issued["order"]["billingState"] == "BILLED"
    invoice = await invoice_of(client, finance, issued["id"])
    # the totals are the order's, computed once: 899 x 0.95 = 854.05; 7.5 x 12.35 = 92.63 (half-up); 45.00
    assert [(line["description"], line["netAmount"]) for line in invoice["lines"]] == [
        ("Wallbox 11 kW", "854.05"),
        ("Cable 5x6 mm2", "92.63"),
        ("Permit fee", "45.00"),
    ]
    totals = invoice["order"]["totals"]
    assert (invoice["netAmount"], invoice["vatAmount"], invoice["grossAmount"]) == (
        totals["net"],
        totals["vatTotal"],
        totals["gross"],
    )
    assert (invoice["netAmount"], invoice["vatAmount"], invoice["grossAmount"]) == ("991.68", "202.85", "1194.53")
    assert (
        invoice["vat"]
        == totals["vat"]
        == [
            {"rate": "21", "base": "946.68", "amount": "198.80"},
            {"rate": "9", "base": "45.00", "amount": "4.05"},
        ]
    )
    assert invoice["buyer"] == {
        "name": "Groendus",
        "street": "Energieweg",
        "houseNumber": "1",
        "postalCode": "3542 DZ",
        "city": "Utrecht",
        "countryCode": "NL",
        "vatNumber": "NL001234567B01",
    }
    assert invoice["seller"]["name"] == "ChargeCars B.V." and invoice["seller"]["chamberOfCommerceNumber"]
    assert invoice["issueDate"] == today().isoformat()
    assert invoice["dueDate"] == (today() + timedelta(days=30)).isoformat()  # the account's terms
    assert (invoice["status"]["name"], invoice["openAmount"], invoice["isOverdue"]) == ("issued", "1194.53", False)
    assert invoice["pdfUrl"].endswith(".pdf")
    # copied: renaming the account later does not change the invoice
    await session.execute(text("UPDATE contact SET display_name = 'Groendus Energy' WHERE display_name = 'Groendus'"))
    await session.commit()
    assert (await invoice_of(client, finance, issued["id"]))["buyer"]["name"] == "Groendus"


async def test_the_standard_payment_term_is_14_days(client, finance, order) -> None:
    issued = await bill(client, finance, order)
    invoice = await invoice_of(client, finance, issued["id"])
    assert date.fromisoformat(invoice["dueDate"]) - date.fromisoformat(invoice["issueDate"]) == timedelta(days=14)


async def test_partial_billing_then_the_rest_and_nothing_twice(client, finance, order) -> None:
    lines = (await gql(client, "query ($id: ID!) { order(id: $id) { lines { id } } }", {"id": order}, token=finance))[
        "order"
    ]["lines"]
    deposit = await bill(client, finance, order, [lines[0]["id"]])
    assert deposit["order"]["billingState"] == "PARTLY_BILLED" and len(deposit["lines"]) == 1
    again = await generate(client, finance, order, [lines[0]["id"], lines[1]["id"]])
    assert (again["__typename"], again["invoiceNumber"], again["field"]) == (
        "LineAlreadyInvoiced",
        deposit["number"],
        "lineIds",
    )
    rest = await bill(client, finance, order)
    assert len(rest["lines"]) == 2 and rest["number"] == f"CC-F-{year()}-00002"
    assert rest["order"]["billingState"] == "BILLED"
    nothing = await generate(client, finance, order)
    assert (nothing["__typename"], nothing["code"]) == ("NothingToInvoice", "NOTHING_TO_INVOICE")
    billed = (await gql(client, BILLING, {"id": order}, token=finance))["order"]
    assert [i["number"] for i in billed["invoices"]] == [deposit["number"], rest["number"]]


@pytest.mark.parametrize(
    ("line_ids", "typename", "field"),
    [
        ([], "ValidationError", "lineIds"),
        (["00000000-0000-0000-0000-000000000000"], "NotFound", "lineIds"),
        (["not-a-uuid"], "NotFound", "lineIds"),
    ],
)
async def test_bad_choices_are_typed_and_change_nothing(
    client, finance, order, session, line_ids, typename, field
) -> None:
    refused = await generate(client, finance, order, line_ids)
    assert (refused["__typename"], refused["field"]) == (typename, field)
    assert (await session.execute(text("SELECT count(*) FROM invoice"))).scalar_one() == 0
    assert (await session.execute(text("SELECT last_value FROM number_sequence WHERE prefix = 'CC-F'"))).scalar() in (
        0,
        None,
    )


async def test_an_order_without_lines_or_cancelled_is_not_billed(client, demo, create_order, finance) -> None:
    contacts, tokens = demo
    empty = (await create_order(tokens["admin"], account=contacts["Groendus"]))["order"]["id"]
    refused = await generate(client, finance, empty)
    assert (refused["__typename"], refused["message"]) == ("NothingToInvoice", "The order has no lines.")
    await add_line(client, tokens["admin"], empty)
    await change(client, tokens["admin"], empty, "cancelled")
    refused = await generate(client, finance, empty)
    assert (refused["__typename"], refused["field"]) == ("ValidationError", "orderId")


async def test_concurrent_invoicing_bills_each_line_once_and_the_series_stays_gapless(
    client, demo, create_order, finance, session
) -> None:
    contacts, tokens = demo
    orders = []
    for _ in range(3):
        order_id = (await create_order(tokens["admin"], account=contacts["Groendus"]))["order"]["id"]
        await add_line(client, tokens["admin"], order_id)
        await add_line(client, tokens["admin"], order_id, "50.00")
        orders.append(order_id)
    results = await asyncio.gather(*(generate(client, finance, order_id) for order_id in orders * 8))
    issued = [r for r in results if r["__typename"] == "InvoiceSuccess"]
    assert len(issued) == 3  # one per order
    assert {r["__typename"] for r in results} == {"InvoiceSuccess", "NothingToInvoice"}
    numbers = sorted(r["invoice"]["number"] for r in issued)
    assert numbers == [f"CC-F-{year()}-{n:05d}" for n in (1, 2, 3)]
    billed = (
        await session.execute(
            text("SELECT line_item_id, count(*) FROM invoice_line GROUP BY line_item_id HAVING count(*) > 1")
        )
    ).all()
    assert billed == []
    assert (await session.execute(text("SELECT count(*) FROM invoice_line"))).scalar_one() == 6


async def test_an_issued_invoice_cannot_be_changed_or_deleted_even_by_sql(client, finance, order, engine) -> None:
    issued = await bill(client, finance, order)
    number = issued["number"]
    for statement in (
        f"UPDATE invoice SET gross_amount = 0, net_amount = 0, vat_amount = 0 WHERE number = '{number}'",
        f"UPDATE invoice SET buyer = '{{}}' WHERE number = '{number}'",
        f"DELETE FROM invoice WHERE number = '{number}'",
        "UPDATE invoice_line SET unit_price = 1",
        "DELETE FROM invoice_line",
    ):
        with pytest.raises(DBAPIError, match="refused"):
            async with engine.begin() as conn:  # the table owner, not a request role
                await conn.execute(text(statement))
    async with engine.begin() as conn:  # its status alone may move (the engine moves it)
        await conn.execute(text(f"UPDATE invoice SET status = 'paid' WHERE number = '{number}'"))


async def test_credit_notes_correct_an_invoice_and_free_its_lines_for_billing_again(client, finance, order) -> None:
    issued = await bill(client, finance, order)
    invoice = await invoice_of(client, finance, issued["id"])
    first, *rest = invoice["lines"]
    partial = await credit(client, finance, issued["id"], line_ids=[first["id"]])
    assert partial["__typename"] == "CreditNoteSuccess", partial
    note = partial["creditNote"]
    assert note["number"] == f"CC-F-{year()}-00002"  # the same series
    assert (note["netAmount"], note["vatAmount"], note["grossAmount"]) == ("-854.05", "-179.35", "-1033.40")
    assert note["status"]["name"] == "settled" and note["invoice"]["number"] == issued["number"]
    assert partial["invoice"] == {"openAmount": "161.13", "status": {"name": "issued"}}  # 1194.53 - 1033.40
    twice = await credit(client, finance, issued["id"], line_ids=[first["id"]])
    assert (twice["__typename"], twice["field"]) == ("NothingToCredit", "lineIds")
    assert (await bill(client, finance, order))["lines"] == [{"id": ANY_ID}]  # the credited line, billed again
    rest_credited = await credit(client, finance, issued["id"])
    assert rest_credited["invoice"] == {"openAmount": "0.00", "status": {"name": "credited"}}
    nothing = await credit(client, finance, issued["id"])
    assert (nothing["__typename"], nothing["code"]) == ("NothingToCredit", "NOTHING_TO_CREDIT")
    notes = (await invoice_of(client, finance, issued["id"]))["creditNotes"]
    assert [n["lines"][0]["quantity"] for n in notes] == ["-1.000", "-7.500"]
    empty = await credit(client, finance, issued["id"], reason="  ")
    assert (empty["__typename"], empty["field"]) == ("ValidationError", "reason")


class _AnyId:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and len(other) == 36


ANY_ID = _AnyId()


async def test_reaching_invoiced_needs_the_order_billed(client, demo, finance, order) -> None:
    _, tokens = demo
    admin = tokens["admin"]
    for status in ("quoted", "accepted", "scheduled", "installing", "installed"):
        await change(client, admin, order, status)
    refused = await change(client, admin, order, "invoiced")
    assert (refused["__typename"], refused["code"]) == ("OrderNotBilled", "ORDER_NOT_BILLED")
    lines = (await gql(client, "query ($id: ID!) { order(id: $id) { lines { id } } }", {"id": order}, token=admin))[
        "order"
    ]["lines"]
    await bill(client, finance, order, [lines[0]["id"]])
    still = await change(client, admin, order, "invoiced")
    assert (still["__typename"], still["billingState"]) == ("OrderNotBilled", "partly billed")
    await bill(client, finance, order)
    assert (await change(client, admin, order, "invoiced"))["__typename"] == "ChangeStatusSuccess"


async def test_a_billed_line_stays_as_billed(client, demo, finance, order) -> None:
    _, tokens = demo
    admin = tokens["admin"]
    issued = await bill(client, finance, order)
    invoice = await invoice_of(client, finance, issued["id"])
    line_id = (await gql(client, "query ($id: ID!) { order(id: $id) { lines { id } } }", {"id": order}, token=admin))[
        "order"
    ]["lines"][0]["id"]
    changed = (await gql(client, UPDATE_LINE, {"input": {"id": line_id, "quantity": "2"}}, token=admin))[
        "updateOrderLine"
    ]
    assert changed == {
        "__typename": "LineAlreadyInvoiced",
        "invoiceNumber": issued["number"],
        "code": "LINE_ALREADY_INVOICED",
    }
    await credit(client, finance, issued["id"], line_ids=[invoice["lines"][0]["id"]])
    changed = (await gql(client, UPDATE_LINE, {"input": {"id": line_id, "quantity": "2"}}, token=admin))[
        "updateOrderLine"
    ]
    assert changed["__typename"] == "OrderLineSuccess"  # credited: it may change, and be billed again
    removed = (await gql(client, REMOVE_LINE, {"input": {"id": line_id}}, token=admin))["removeOrderLine"]
    assert removed["__typename"] == "LineAlreadyInvoiced"  # but it stays on the order


@pytest.mark.parametrize("role", [Role.STAFF, Role.PARTNER, Role.CUSTOMER])
async def test_only_finance_and_admins_issue(client, demo, order, sessions, role) -> None:
    contacts, _ = demo
    token = await issue_token(sessions, role, contact_id=None if role is Role.STAFF else contacts["Groendus"].id)
    errors = await gql_errors(client, GENERATE_INVOICE, {"input": {"orderId": order}}, token=token)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_invoices_list_filters_and_counts(client, demo, create_order, finance, order, session) -> None:
    contacts, tokens = demo
    await bill(client, finance, order)
    other = (await create_order(tokens["admin"], account=contacts["Essent"]))["order"]["id"]
    await add_line(client, tokens["admin"], other)
    overdue = await bill(client, finance, other)
    # issued long ago, as a backdated import would have it (only its dates move)
    await session.execute(text("ALTER TABLE invoice DISABLE TRIGGER invoice_issued"))
    await session.execute(
        text("UPDATE invoice SET issue_date = issue_date - 60, due_date = due_date - 60 WHERE number = :n"),
        {"n": overdue["number"]},
    )
    await session.execute(text("ALTER TABLE invoice ENABLE TRIGGER invoice_issued"))
    await session.commit()
    query = """query ($filter: InvoiceFilterInput) {
      invoices(filter: $filter, first: 10) { totalCount nodes { number isOverdue buyer { name } } }
    }"""
    everything = (await gql(client, query, {}, token=finance))["invoices"]
    assert everything["totalCount"] == 2
    late = (await gql(client, query, {"filter": {"overdue": True}}, token=finance))["invoices"]
    assert [(n["number"], n["isOverdue"], n["buyer"]["name"]) for n in late["nodes"]] == [
        (overdue["number"], True, "Essent")
    ]
    by_account = {"accountId": gid("Contact", contacts["Groendus"].id)}
    assert (await gql(client, query, {"filter": by_account}, token=finance))["invoices"]["totalCount"] == 1
    found = await gql(
        client,
        "query ($n: String!) { billingDocument(number: $n) { number } }",
        {"n": overdue["number"]},
        token=finance,
    )
    assert found["billingDocument"] == {"number": overdue["number"]}


async def test_amounts_are_exact_decimals(client, finance, order) -> None:
    issued = await bill(client, finance, order)
    assert isinstance(issued["grossAmount"], str) and Decimal(issued["grossAmount"]) == Decimal("1194.53")


async def test_pdf_carries_the_number_dates_vat_and_totals(client, finance, order) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    issued = await bill(client, finance, order)
    invoice = await invoice_of(client, finance, issued["id"])
    response = await client.get(invoice["pdfUrl"], headers={"Authorization": f"Bearer {finance}"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'inline; filename="{issued["number"]}.pdf"'
    content = "\n".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)
    for expected in (
        issued["number"],
        "ChargeCars B.V.",
        "Groendus",
        today().isoformat(),
        "KvK",
        "BTW / VAT 21% over \u20ac 946,68",
        "\u20ac 198,80",
        "\u20ac 4,05",
        "\u20ac 1.194,53",
        "Wallbox 11 kW",
    ):
        assert expected in content, (expected, content)
    await credit(client, finance, issued["id"], reason="Wrong model billed")
    [note] = (await invoice_of(client, finance, issued["id"]))["creditNotes"]
    response = await client.get(note["pdfUrl"], headers={"Authorization": f"Bearer {finance}"})
    content = "\n".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)
    for expected in ("Creditnota", note["number"], issued["number"], "Wrong model billed", "-\u20ac 1.194,53"):
        assert expected in content, (expected, content)


async def test_pdf_needs_a_token_and_an_existing_document(client, finance, order) -> None:
    issued = await bill(client, finance, order)
    url = (await invoice_of(client, finance, issued["id"]))["pdfUrl"]
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers={"Authorization": "Bearer nonsense"})).status_code == 401
    missing = await client.get(
        "/invoices/00000000-0000-0000-0000-000000000000.pdf", headers={"Authorization": f"Bearer {finance}"}
    )
    assert missing.status_code == 404 and missing.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await client.get("/invoices/x.pdf", headers={"Authorization": f"Bearer {finance}"})).status_code == 404
