"""Payments and reconciliation: partial and full payment, over-allocation refused (also when
concurrent), overpayment on account, refunds against credit notes, bank statements in both formats
imported once, certain matches allocated, the rest waiting with suggestions (docs/finance.md)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.accounts.models import Role
from app.finance.service import today
from tests.factories import brand_id, gid, issue_token
from tests.support.api import add_line, bill, gql

SAMPLES = Path(__file__).parent / "samples"
RECORD = """
mutation ($input: RecordPaymentInput!) {
  recordPayment(input: $input) {
    __typename
    ... on PaymentSuccess {
      payment { id status { name } amount unallocatedAmount allocations { amount document { number } } }
    }
    ... on AmountExceedsOpen { openAmount }
    ... on UserError { code message field }
  }
}
"""
ALLOCATE = """
mutation ($input: AllocatePaymentInput!) {
  allocatePayment(input: $input) {
    __typename
    ... on PaymentSuccess { payment { status { name } unallocatedAmount } }
    ... on AmountExceedsOpen { openAmount }
    ... on UserError { code message field }
  }
}
"""
IMPORT = """
mutation ($input: ImportBankStatementInput!) {
  importBankStatement(input: $input) {
    __typename
    ... on ImportBankStatementSuccess {
      statement { accountIban statementKey entries openingBalance closingBalance }
      matched skipped
      payments {
        id amount status { name } payerName payerIban fromBankStatement contact { displayName }
        allocations { amount document { number } }
        suggestions { openAmount reasons invoice { number } }
      }
    }
    ... on StatementUnreadable { location }
    ... on UserError { code message field }
  }
}
"""
INVOICE = """
query ($id: ID!) {
  node(id: $id) {
    ... on Invoice {
      number grossAmount openAmount paidAmount status { name }
      allocations { amount allocatedOn payment { amount } }
      creditNotes { id number status { name } allocations { amount } }
      order { billingState }
    }
  }
}
"""
CREDIT = """
mutation ($input: CreditInvoiceInput!) {
  creditInvoice(input: $input) { __typename ... on CreditNoteSuccess { creditNote { id } invoice { openAmount } } }
}
"""


@pytest.fixture
async def finance(sessions) -> str:
    return await issue_token(sessions, Role.FINANCE)


@pytest.fixture
async def brand(sessions) -> str:
    return gid("BusinessEntity", await brand_id(sessions, "CC"))


async def invoice_for(client, create_order, demo, finance, account="Groendus", *prices) -> dict:
    contacts, tokens = demo
    order = (await create_order(tokens["admin"], account=contacts[account]))["order"]["id"]
    for price in prices or ("987.19",):  # gross 1194.50 at 21 %
        await add_line(client, tokens["admin"], order, price)
    return await bill(client, finance, order)


async def pay(client, token, brand, amount, allocations=(), **extra):
    variables = {
        "input": {
            "businessEntityId": brand,
            "amount": amount,
            "paidOn": today().isoformat(),
            "method": "BANK_TRANSFER",
            "allocations": [{"documentId": d, "amount": a} for d, a in allocations],
            **extra,
        }
    }
    return (await gql(client, RECORD, variables, token=token))["recordPayment"]


async def invoice_state(client, token, invoice_id):
    return (await gql(client, INVOICE, {"id": invoice_id}, token=token))["node"]


async def test_partial_then_full_payment(client, create_order, demo, finance, brand) -> None:
    invoice = await invoice_for(client, create_order, demo, finance)
    assert invoice["grossAmount"] == "1194.50"
    first = await pay(client, finance, brand, "500.00", [(invoice["id"], "500.00")])
    assert first["payment"]["status"]["name"] == "allocated" and first["payment"]["unallocatedAmount"] == "0.00"
    state = await invoice_state(client, finance, invoice["id"])
    assert (state["openAmount"], state["paidAmount"], state["status"]["name"]) == ("694.50", "500.00", "partially_paid")
    assert state["order"]["billingState"] == "BILLED"
    await pay(client, finance, brand, "694.50", [(invoice["id"], "694.50")])
    state = await invoice_state(client, finance, invoice["id"])
    assert (state["openAmount"], state["status"]["name"], state["order"]["billingState"]) == ("0.00", "paid", "PAID")
    assert [a["amount"] for a in state["allocations"]] == ["500.00", "694.50"]


async def test_an_allocation_never_exceeds_what_is_open(client, create_order, demo, finance, brand, session) -> None:
    invoice = await invoice_for(client, create_order, demo, finance)
    refused = await pay(client, finance, brand, "2000.00", [(invoice["id"], "1194.51")])
    assert (refused["__typename"], refused["openAmount"]) == ("AmountExceedsOpen", "1194.50")
    too_much = await pay(client, finance, brand, "100.00", [(invoice["id"], "100.01")])
    assert (too_much["__typename"], too_much["field"]) == ("AmountExceedsOpen", "allocations")
    assert (await session.execute(text("SELECT count(*) FROM payment"))).scalar_one() == 0


async def test_concurrent_allocations_cannot_over_allocate(client, create_order, demo, finance, brand, session) -> None:
    invoice = await invoice_for(client, create_order, demo, finance)
    results = await asyncio.gather(
        *(pay(client, finance, brand, "200.00", [(invoice["id"], "200.00")]) for _ in range(10))
    )
    assert sorted(r["__typename"] for r in results) == ["AmountExceedsOpen"] * 5 + ["PaymentSuccess"] * 5
    state = await invoice_state(client, finance, invoice["id"])
    assert (state["paidAmount"], state["openAmount"]) == ("1000.00", "194.50")
    total = (await session.execute(text("SELECT sum(amount) FROM payment_allocation"))).scalar_one()
    assert total == Decimal("1000.00")


async def test_an_overpayment_stays_on_the_account(client, create_order, demo, finance, brand) -> None:
    contacts, _ = demo
    invoice = await invoice_for(client, create_order, demo, finance)
    nameless = await pay(client, finance, brand, "1300.00", [(invoice["id"], "1194.50")], keepRestOnAccount=True)
    assert (nameless["__typename"], nameless["field"]) == ("ValidationError", "contactId")
    kept = await pay(
        client,
        finance,
        brand,
        "1300.00",
        [(invoice["id"], "1194.50")],
        keepRestOnAccount=True,
        contactId=gid("Contact", contacts["Groendus"].id),
    )
    assert (kept["payment"]["status"]["name"], kept["payment"]["unallocatedAmount"]) == ("on_account", "105.50")
    # later the credit pays the next invoice
    second = await invoice_for(client, create_order, demo, finance, "Groendus", "50.00")
    used = (
        await gql(
            client,
            ALLOCATE,
            {
                "input": {
                    "paymentId": kept["payment"]["id"],
                    "allocations": [{"documentId": second["id"], "amount": "60.50"}],
                }
            },
            token=finance,
        )
    )["allocatePayment"]
    assert used["payment"]["unallocatedAmount"] == "45.00"
    assert (await invoice_state(client, finance, second["id"]))["status"]["name"] == "paid"


async def test_a_refund_pays_back_what_a_credit_note_owes(client, create_order, demo, finance, brand) -> None:
    invoice = await invoice_for(client, create_order, demo, finance, "Groendus", "800.00", "187.19")
    await pay(client, finance, brand, "1194.50", [(invoice["id"], "1194.50")])
    line = (
        await gql(
            client,
            "query ($id: ID!) { node(id: $id) { ... on Invoice { lines { id } } } }",
            {"id": invoice["id"]},
            token=finance,
        )
    )["node"]["lines"][1]
    credited = (
        await gql(
            client,
            CREDIT,
            {"input": {"invoiceId": invoice["id"], "reason": "cable not laid", "lineIds": [line["id"]]}},
            token=finance,
        )
    )["creditInvoice"]
    assert credited["invoice"]["openAmount"] == "-226.50"  # 187.19 + 21 % VAT owed back
    state = await invoice_state(client, finance, invoice["id"])
    assert state["creditNotes"][0]["status"]["name"] == "issued"  # paid already: waits for the refund
    note = credited["creditNote"]["id"]
    too_much = await pay(client, finance, brand, "300.00", [(note, "300.00")], direction="OUTGOING")
    assert (too_much["__typename"], too_much["openAmount"]) == ("AmountExceedsOpen", "226.50")
    wrong_way = await pay(client, finance, brand, "226.50", [(note, "226.50")])
    assert (wrong_way["__typename"], wrong_way["field"]) == ("ValidationError", "allocations")
    refund = await pay(client, finance, brand, "226.50", [(note, "226.50")], direction="OUTGOING")
    assert refund["payment"]["status"]["name"] == "allocated"
    state = await invoice_state(client, finance, invoice["id"])
    assert state["openAmount"] == "0.00" and state["creditNotes"][0]["status"]["name"] == "settled"
    assert state["creditNotes"][0]["allocations"] == [{"amount": "226.50"}]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "10.001"}, "amount"),
        ({"paidOn": (today() + timedelta(days=1)).isoformat()}, "paidOn"),
        ({"payerIban": "not an iban"}, "payerIban"),
    ],
)
async def test_bad_payments_are_typed_and_change_nothing(client, finance, brand, session, change, field) -> None:
    variables = {
        "input": {
            "businessEntityId": brand,
            "amount": "10.00",
            "paidOn": today().isoformat(),
            "method": "CASH",
            **change,
        }
    }
    refused = (await gql(client, RECORD, variables, token=finance))["recordPayment"]
    assert (refused["__typename"], refused["field"]) == ("ValidationError", field)
    assert (await session.execute(text("SELECT count(*) FROM payment"))).scalar_one() == 0


async def test_another_brands_invoice_is_not_paid_here(client, create_order, demo, finance, sessions) -> None:
    invoice = await invoice_for(client, create_order, demo, finance)
    other = gid("BusinessEntity", await brand_id(sessions, "LT"))
    refused = await pay(client, finance, other, "10.00", [(invoice["id"], "10.00")])
    assert (refused["__typename"], refused["field"]) == ("ValidationError", "allocations")


async def test_allocations_are_append_only(client, create_order, demo, finance, brand, engine) -> None:
    invoice = await invoice_for(client, create_order, demo, finance)
    await pay(client, finance, brand, "10.00", [(invoice["id"], "10.00")])
    for statement in ("UPDATE payment_allocation SET amount = 1", "DELETE FROM payment_allocation"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))


# --- bank statements -------------------------------------------------------------------------------


def camt053(statement: str, **values: str) -> str:
    return (SAMPLES / "statement.camt053.xml").read_text().format(statement=statement, **values)


def mt940(statement: str, **values: str) -> str:
    return (SAMPLES / "statement.mt940").read_text().format(statement=statement, **values)


async def import_statement(client, token, content, statement_format="CAMT053"):
    variables = {"input": {"format": statement_format, "content": content}}
    return (await gql(client, IMPORT, variables, token=token))["importBankStatement"]


async def test_a_camt053_statement_is_matched_where_certain_and_imported_once(
    client, create_order, demo, finance, session
) -> None:
    full = await invoice_for(client, create_order, demo, finance)
    part = await invoice_for(client, create_order, demo, finance, "Essent", "100.00")
    day = today().isoformat()
    content = camt053(
        "2026-301", today=day, account="NL91ABNA0417164300", closing="2500.00", exact="1194.50",
        paid_in_full=full["number"], partial="50.00", paid_in_part=part["number"], anonymous="121.00",
    )  # fmt: skip
    result = await import_statement(client, finance, content)
    assert result["__typename"] == "ImportBankStatementSuccess", result
    assert result["statement"] == {
        "accountIban": "NL91ABNA0417164300",
        "statementKey": "2026-301",
        "entries": 4,
        "openingBalance": "1000.00",
        "closingBalance": "2500.00",
    }
    assert (result["matched"], result["skipped"], len(result["payments"])) == (1, 0, 3)  # the debit is no payment
    exact, partial, anonymous = result["payments"]
    assert exact["status"]["name"] == "allocated" and exact["allocations"] == [
        {"amount": "1194.50", "document": {"number": full["number"]}}
    ]
    assert (exact["payerName"], exact["payerIban"], exact["contact"]) == (
        "Groendus",
        "NL20INGB0001234567",
        {"displayName": "Groendus"},
    )
    assert (await invoice_state(client, finance, full["id"]))["status"]["name"] == "paid"
    # a partial amount under an invoice number is not certain: it waits, with the invoice suggested
    assert partial["status"]["name"] == "unallocated" and partial["allocations"] == []
    assert [(s["invoice"]["number"], s["openAmount"], s["reasons"]) for s in partial["suggestions"]] == [
        (part["number"], "121.00", ["number in the reference", "payer's name"])
    ]
    # no reference: the open invoice of that amount is suggested
    assert [(s["invoice"]["number"], s["reasons"]) for s in anonymous["suggestions"]] == [
        (part["number"], ["same amount"])
    ]
    # a person allocates it
    allocated = (
        await gql(
            client,
            ALLOCATE,
            {"input": {"paymentId": anonymous["id"], "allocations": [{"documentId": part["id"], "amount": "121.00"}]}},
            token=finance,
        )
    )["allocatePayment"]
    assert allocated["payment"]["status"]["name"] == "allocated"

    counts = "SELECT (SELECT count(*) FROM payment), (SELECT count(*) FROM bank_statement_entry)"
    before = (await session.execute(text(counts))).one()
    again = await import_statement(client, finance, content)
    assert (again["__typename"], again["code"]) == ("StatementAlreadyImported", "STATEMENT_ALREADY_IMPORTED")
    assert (await session.execute(text(counts))).one() == before
    # a later statement that repeats an entry books only what is new
    overlapping = content.replace("<Id>2026-301</Id>", "<Id>2026-302</Id>")
    later = await import_statement(client, finance, overlapping)
    assert (later["skipped"], later["payments"]) == (4, [])


async def test_an_mt940_statement_is_read_and_matched(client, create_order, demo, finance) -> None:
    invoice = await invoice_for(client, create_order, demo, finance)
    day = today()
    content = mt940(
        "00042", account="NL91ABNA0417164300", yymmdd=day.strftime("%y%m%d"), mmdd=day.strftime("%m%d"),
        exact_comma="1194,50", paid_in_full=invoice["number"], anonymous_comma="10,00", closing_comma="2204,50",
    )  # fmt: skip
    result = await import_statement(client, finance, content, "MT940")
    assert result["__typename"] == "ImportBankStatementSuccess", result
    assert result["statement"]["statementKey"] == "00042/1" and result["matched"] == 1
    first, second = result["payments"]
    assert (first["amount"], first["payerName"], first["payerIban"]) == ("1194.50", "Groendus", "NL20INGB0001234567")
    assert first["allocations"] == [{"amount": "1194.50", "document": {"number": invoice["number"]}}]
    assert second["status"]["name"] == "unallocated"
    assert (await import_statement(client, finance, content, "MT940"))["__typename"] == "StatementAlreadyImported"


@pytest.mark.parametrize(
    ("statement_format", "content", "location"),
    [
        ("CAMT053", "<Document><BkToCstmrStmt><Stmt>", "line 1, column 31"),
        ("CAMT053", "<Document><BkToCstmrStmt><Stmt><Id>1</Id></Stmt></BkToCstmrStmt></Document>",
         "Document/BkToCstmrStmt/Stmt/Acct/Id/IBAN"),
        ("CAMT053", '<!DOCTYPE x [<!ENTITY a "aaaa">]><Document/>', "line 1"),
        ("MT940", "hello", "line 1"),
    ],
)  # fmt: skip
async def test_an_unreadable_statement_says_where(
    client, finance, session, statement_format, content, location
) -> None:
    refused = await import_statement(client, finance, content, statement_format)
    assert (refused["__typename"], refused["code"], refused["location"]) == (
        "StatementUnreadable",
        "STATEMENT_UNREADABLE",
        location,
    )
    assert (await session.execute(text("SELECT count(*) FROM bank_statement"))).scalar_one() == 0


async def test_a_camt053_entry_without_an_amount_is_named(client, finance) -> None:
    day = today().isoformat()
    content = camt053(
        "2026-303", today=day, account="NL91ABNA0417164300", closing="0", exact="", paid_in_full="x",
        partial="1.00", paid_in_part="y", anonymous="1.00",
    )  # fmt: skip
    refused = await import_statement(client, finance, content)
    assert refused["location"] == "Document/BkToCstmrStmt/Stmt/Ntry[1]/Amt"


async def test_a_statement_of_an_unknown_account_is_refused(client, finance) -> None:
    day = today().isoformat()
    content = camt053(
        "2026-304", today=day, account="NL00BANK0000000000", closing="0", exact="1.00", paid_in_full="x",
        partial="1.00", paid_in_part="y", anonymous="1.00",
    )  # fmt: skip
    refused = await import_statement(client, finance, content)
    assert (refused["__typename"], refused["field"]) == ("ValidationError", "content")


async def test_payments_are_staff_only(client, create_order, demo, finance, brand) -> None:
    contacts, tokens = demo
    invoice = await invoice_for(client, create_order, demo, finance)
    await pay(client, finance, brand, "100.00", [(invoice["id"], "100.00")])
    partner = tokens["partner"]
    listed = await gql(client, "{ payments(first: 10) { totalCount } }", token=finance)
    assert listed["payments"]["totalCount"] == 1
    hidden = await gql(client, "{ payments(first: 10) { totalCount } }", token=partner)
    assert hidden["payments"]["totalCount"] == 0


async def test_suggestions_for_a_list_of_waiting_payments_cost_the_same_for_2_and_6(
    client, create_order, demo, finance, brand, count_statements
) -> None:
    invoice = await invoice_for(client, create_order, demo, finance)
    query = """{ payments(first: 50, filter: {status: ["unallocated"]}) {
      nodes { amount suggestions { reasons invoice { number } } } } }"""
    counts = {}
    for total in (2, 6):
        while (await gql(client, "{ payments { totalCount } }", token=finance))["payments"]["totalCount"] < total:
            await pay(client, finance, brand, "1194.50", reference=f"zie {invoice['number']}")
        with count_statements() as counter:
            nodes = (await gql(client, query, token=finance))["payments"]["nodes"]
        assert len(nodes) == total
        assert all(n["suggestions"][0]["reasons"] == ["number in the reference", "same amount"] for n in nodes)
        counts[total] = len(counter.queries)
    assert counts[2] == counts[6], counts


async def test_entries_in_another_currency_are_kept_not_booked(client, finance) -> None:
    day = today().isoformat()
    content = camt053(
        "2026-305", today=day, account="NL91ABNA0417164300", closing="0", exact="1.00", paid_in_full="x",
        partial="2.00", paid_in_part="y", anonymous="3.00",
    ).replace('<Amt Ccy="EUR">3.00</Amt>', '<Amt Ccy="USD">3.00</Amt>')  # fmt: skip
    result = await import_statement(client, finance, content)
    assert result["statement"]["entries"] == 4
    assert sorted(p["amount"] for p in result["payments"]) == ["1.00", "2.00"]
