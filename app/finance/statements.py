"""Bank statements: reading CAMT.053 and MT940, importing once, matching entries to invoices
(docs/finance.md, "Reconciliation").

- A statement is identified by (account, statement key): CAMT.053 `Stmt/Id`, MT940 `:28C:`
  statement and sequence number. Importing it again is refused (`StatementAlreadyImported`).
- An entry is identified by (account, entry key): the bank's reference (`AcctSvcrRef`, else
  `NtryRef`; MT940 the bank reference of `:61:`), else a digest of what it says. An entry that
  an earlier statement already brought is skipped, not booked twice.
- Every new credit entry becomes an incoming payment. It is allocated at once only when that is
  certain: the invoice numbers in its remittance text are the brand's open invoices and the
  amount is exactly what they still ask together. Anything else waits, unallocated, for a person
  (`allocatePayment`), with suggestions (`suggestions`). Debit entries and entries in another
  currency are kept with the statement, not booked as payments (refunds are recorded against
  their credit notes).
- XML is read with defusedxml (no entity expansion), MT940 with the maintained `mt-940` parser.
"""

from __future__ import annotations

import enum
import hashlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from xml.etree.ElementTree import Element, ParseError

import mt940
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Actor, record
from app.business_entities.models import BusinessEntity
from app.db import any_of, constraint_name, read
from app.errors import ValidationFailed
from app.finance.errors import StatementAlreadyImported, StatementUnreadable
from app.finance.models import BankStatement, BankStatementEntry, Invoice, InvoiceKind, Payment, PaymentMethod
from app.finance.payments import AllocationIn, PaymentIn, record_payment
from app.finance.service import CREDITED, PAID, owed_expression, owed_of_many, today

MAX_ENTRIES: Final = 5_000
INVOICE_NUMBER = re.compile(r"\b[A-Z]{1,5}-F-\d{4}-\d{3,8}\b")


class StatementFormat(enum.StrEnum):
    CAMT053 = "camt053"
    MT940 = "mt940"


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    key: str
    booked_on: date
    amount: Decimal  # signed
    currency: str
    counterparty_name: str | None
    counterparty_iban: str | None
    remittance: str | None


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    account_iban: str
    key: str
    opening: Decimal | None
    closing: Decimal | None
    entries: list[ParsedEntry] = field(default_factory=list)


def _digest(*parts: Any) -> str:
    return "sha256:" + hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:48]


# --- CAMT.053 ------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Element, name: str) -> Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _children(element: Element, name: str) -> Iterator[Element]:
    return (c for c in element if _local(c.tag) == name)


def _find(element: Element, path: str) -> Element | None:
    current: Element | None = element
    for name in path.split("/"):
        if current is None:
            return None
        current = _child(current, name)
    return current


def _text(element: Element, path: str) -> str | None:
    found = _find(element, path)
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def _required(element: Element, path: str, where: str) -> str:
    value = _text(element, path)
    if value is None:
        raise StatementUnreadable("A required element is missing", location=f"{where}/{path}")
    return value


def _decimal(value: str, where: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise StatementUnreadable(f"Not an amount: {value[:40]!r}", location=where) from None
    if not amount.is_finite():
        raise StatementUnreadable(f"Not an amount: {value[:40]!r}", location=where)
    return amount


def _date(value: str, where: str) -> date:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise StatementUnreadable(f"Not a date: {value[:40]!r}", location=where) from None


def _balance(statement: Element, code: str, where: str) -> Decimal | None:
    for index, balance in enumerate(_children(statement, "Bal"), start=1):
        if _text(balance, "Tp/CdOrPrtry/Cd") == code:
            amount = _decimal(_required(balance, "Amt", f"{where}/Bal[{index}]"), f"{where}/Bal[{index}]/Amt")
            return -amount if _text(balance, "CdtDbtInd") == "DBIT" else amount
    return None


def parse_camt053(content: str) -> ParsedStatement:
    try:
        root = ElementTree.fromstring(content)
    except ParseError as exc:
        line, column = exc.position
        raise StatementUnreadable("Not well-formed XML", location=f"line {line}, column {column}") from None
    except DefusedXmlException:
        raise StatementUnreadable("Entities and DTDs are refused", location="line 1") from None
    statement = _find(root, "BkToCstmrStmt/Stmt")
    if _local(root.tag) != "Document" or statement is None:
        raise StatementUnreadable("Not a CAMT.053 statement", location="Document/BkToCstmrStmt/Stmt")
    where = "Document/BkToCstmrStmt/Stmt"
    account = _required(statement, "Acct/Id/IBAN", where).replace(" ", "").upper()
    key = _required(statement, "Id", where)
    entries = []
    for index, entry in enumerate(_children(statement, "Ntry"), start=1):
        at = f"{where}/Ntry[{index}]"
        amount = _decimal(_required(entry, "Amt", at), f"{at}/Amt")
        amount_element = _find(entry, "Amt")
        currency = (amount_element.get("Ccy") if amount_element is not None else None) or "EUR"
        indicator = _required(entry, "CdtDbtInd", at)
        if indicator not in ("CRDT", "DBIT"):
            raise StatementUnreadable(f"Not CRDT or DBIT: {indicator[:10]!r}", location=f"{at}/CdtDbtInd")
        signed = amount if indicator == "CRDT" else -amount
        booked = _date(
            _text(entry, "BookgDt/Dt") or _text(entry, "BookgDt/DtTm") or _required(entry, "ValDt/Dt", at), at
        )
        details = _find(entry, "NtryDtls/TxDtls")
        party = "Dbtr" if indicator == "CRDT" else "Cdtr"
        name = iban = remittance = None
        if details is not None:
            name = _text(details, f"RltdPties/{party}/Nm") or _text(details, f"RltdPties/{party}/Pty/Nm")
            iban = _text(details, f"RltdPties/{party}Acct/Id/IBAN")
            lines = [e.text.strip() for e in details.iter() if _local(e.tag) == "Ustrd" and e.text and e.text.strip()]
            remittance = " ".join(lines) or _text(details, "RmtInf/Strd/CdtrRefInf/Ref")
        remittance = remittance or _text(entry, "AddtlNtryInf")
        reference = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
        entries.append(
            ParsedEntry(
                key=reference or _digest(key, index, booked, signed, remittance, iban),
                booked_on=booked,
                amount=signed,
                currency=currency,
                counterparty_name=name[:200] if name else None,
                counterparty_iban=iban.replace(" ", "").upper()[:34] if iban else None,
                remittance=remittance,
            )
        )
    return ParsedStatement(
        account_iban=account,
        key=key[:100],
        opening=_balance(statement, "OPBD", where),
        closing=_balance(statement, "CLBD", where),
        entries=entries,
    )


# --- MT940 ---------------------------------------------------------------------------------------

_MT940_NAME = re.compile(r"/NAME/([^/]+)")
_MT940_IBAN = re.compile(r"/IBAN/([A-Z]{2}[0-9]{2}[A-Z0-9]+)")
_MT940_REMITTANCE = re.compile(r"/REMI/(?:USTD//|STRD/CUR/)?(.*?)(?=/(?:EREF|NAME|IBAN|BIC|ORDP|CSID|MARF)/|$)")


def _line_of(content: str, needle: str) -> str:
    for number, line in enumerate(content.splitlines(), start=1):
        if line.startswith(needle):
            return f"line {number}"
    return "line 1"


def parse_mt940(content: str) -> ParsedStatement:
    if ":20:" not in content or ":25:" not in content:
        raise StatementUnreadable("Not an MT940 statement (no :20: or :25: field)", location="line 1")
    try:
        parsed = mt940.parse(content)
    except Exception as exc:  # the parser raises plain errors naming the field it failed on
        message = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        field_tag = re.search(r":(\d{2}[A-Z]?):", str(exc))
        location = _line_of(content, field_tag.group(0)) if field_tag else "line 1"
        raise StatementUnreadable(f"Unreadable MT940: {message}", location=location) from None
    data = parsed.data
    account = str(data.get("account_identification") or "").replace(" ", "").upper()
    if not account:
        raise StatementUnreadable("The account (:25:) is empty", location=_line_of(content, ":25:"))
    number = data.get("statement_number")
    if not number:
        raise StatementUnreadable("The statement number (:28C:) is missing", location=_line_of(content, ":28"))
    key = f"{number}/{data.get('sequence_number') or '1'}"
    entries = []
    for index, transaction in enumerate(parsed, start=1):
        values = transaction.data
        amount = values.get("amount")
        booked = values.get("date")
        if amount is None or booked is None:
            raise StatementUnreadable("A booking without amount or date", location=f":61: number {index}")
        signed = Decimal(str(amount.amount))
        details = str(values.get("transaction_details") or "").replace("\n", "")
        name_match, iban_match = _MT940_NAME.search(details), _MT940_IBAN.search(details)
        remittance_match = _MT940_REMITTANCE.search(details)
        remittance = (remittance_match.group(1) if remittance_match else details).strip() or None
        reference = values.get("bank_reference")
        booked_on = date(booked.year, booked.month, booked.day)
        entries.append(
            ParsedEntry(
                key=f"mt940:{reference}" if reference else _digest(key, index, booked_on, signed, details),
                booked_on=booked_on,
                amount=signed,
                currency=str(values.get("currency") or amount.currency or "EUR"),
                counterparty_name=name_match.group(1).strip()[:200] if name_match else None,
                counterparty_iban=iban_match.group(1)[:34] if iban_match else None,
                remittance=remittance,
            )
        )

    def balance(name: str) -> Decimal | None:
        value = data.get(name)
        return Decimal(str(value.amount.amount)) if value is not None else None

    return ParsedStatement(
        account_iban=account[:34],
        key=key[:100],
        opening=balance("final_opening_balance"),
        closing=balance("final_closing_balance"),
        entries=entries,
    )


def parse(statement_format: StatementFormat, content: str) -> ParsedStatement:
    parsed = parse_camt053(content) if statement_format is StatementFormat.CAMT053 else parse_mt940(content)
    if len(parsed.entries) > MAX_ENTRIES:
        raise ValidationFailed(f"At most {MAX_ENTRIES} entries per statement.", field="content")
    return parsed


# --- import and matching -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportResult:
    statement: BankStatement
    payments: list[Payment]
    matched: int
    skipped: int
    """Entries an earlier statement brought already."""


async def _certain_match(session: AsyncSession, brand_id: uuid.UUID, entry: ParsedEntry) -> list[AllocationIn]:
    """The allocations of an entry when its match is certain, else none."""
    numbers = sorted(set(INVOICE_NUMBER.findall(entry.remittance or "")))
    if not numbers:
        return []
    invoices = await read(
        session,
        select(Invoice.id, Invoice.number, Invoice.status).where(
            any_of(Invoice.number, numbers),
            Invoice.business_entity_id == brand_id,
            Invoice.kind == InvoiceKind.INVOICE,
        ),
    )
    if len(invoices) != len(numbers) or any(i.status in (PAID, CREDITED) for i in invoices):
        return []
    owed = await owed_of_many(session=session, invoice_ids=[i.id for i in invoices])
    if any(owed[i.id].open <= 0 for i in invoices):
        return []
    if sum((owed[i.id].open for i in invoices), Decimal(0)) != entry.amount:
        return []
    return [AllocationIn(i.id, owed[i.id].open) for i in invoices]


async def import_statement(
    *, session: AsyncSession, statement_format: StatementFormat, content: str, actor: Actor
) -> ImportResult:
    parsed = parse(statement_format, content)
    brand = await session.scalar(select(BusinessEntity).where(BusinessEntity.iban == parsed.account_iban))
    if brand is None:
        raise ValidationFailed(f"{parsed.account_iban} is not one of the brands' accounts.", field="content")
    statement = BankStatement(
        account_iban=parsed.account_iban,
        statement_key=parsed.key,
        format=statement_format.value,
        business_entity_id=brand.id,
        opening_balance=parsed.opening,
        closing_balance=parsed.closing,
        entries=len(parsed.entries),
        imported_by_account_id=actor.account_id,
    )
    session.add(statement)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        if constraint_name(exc) == "uq_bank_statement_account_iban_statement_key":
            raise StatementAlreadyImported(
                f"Statement {parsed.key} of {parsed.account_iban} is imported already.", field="content"
            ) from None
        raise
    payments, matched, skipped = [], 0, 0
    for entry in parsed.entries:
        entry_id = await session.scalar(
            insert(BankStatementEntry)
            .values(
                statement_id=statement.id,
                account_iban=parsed.account_iban,
                entry_key=entry.key[:100],
                booked_on=entry.booked_on,
                amount=entry.amount,
                currency=entry.currency[:3],
                counterparty_name=entry.counterparty_name,
                counterparty_iban=entry.counterparty_iban,
                remittance=entry.remittance,
            )
            .on_conflict_do_nothing(index_elements=["account_iban", "entry_key"])
            .returning(BankStatementEntry.id)
        )
        if entry_id is None:
            skipped += 1
            continue
        if entry.amount <= 0 or entry.currency != "EUR":
            continue  # kept with the statement: debits, and amounts in another currency
        allocations = await _certain_match(session, brand.id, entry)
        payer = await _payer(session, entry)
        payment = await record_payment(
            session=session,
            payment_in=PaymentIn(
                business_entity_id=brand.id,
                amount=entry.amount,
                paid_on=min(entry.booked_on, today()),
                method=PaymentMethod.BANK_TRANSFER,
                reference=entry.remittance[:500] if entry.remittance else None,
                payer_name=entry.counterparty_name,
                payer_iban=entry.counterparty_iban,
                contact_id=payer,
                allocations=allocations,
            ),
            actor=actor,
            statement_entry_id=entry_id,
        )
        payments.append(payment)
        matched += bool(allocations)
    await record(
        session=session, actor=actor, action="bank_statement.import", entity_type="bank_statement",
        entity_id=statement.id, before=None,
        after={"key": parsed.key, "account": parsed.account_iban, "payments": len(payments), "matched": matched,
               "skipped": skipped},
    )  # fmt: skip
    return ImportResult(statement=statement, payments=payments, matched=matched, skipped=skipped)


async def _payer(session: AsyncSession, entry: ParsedEntry) -> uuid.UUID | None:
    """The account an entry came from, when its invoice numbers name exactly one."""
    numbers = INVOICE_NUMBER.findall(entry.remittance or "")
    if not numbers:
        return None
    accounts = set(await session.scalars(select(Invoice.account_contact_id).where(any_of(Invoice.number, numbers))))
    return accounts.pop() if len(accounts) == 1 else None


# --- suggestions for what waits --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Suggestion:
    invoice_id: uuid.UUID
    open_amount: Decimal
    reasons: tuple[str, ...]


async def suggestions_of_many(
    *, session: AsyncSession, payments: list[Any], limit: int = 5
) -> dict[uuid.UUID, list[Suggestion]]:
    """For payments that wait: open invoices of the same brand whose number is in the reference,
    whose open amount is the payment's, or whose account has the payer's name; the most reasons
    first, then the earliest due. One statement for the whole batch."""
    if not payments:
        return {}
    wanted = {
        payment.id: (
            set(INVOICE_NUMBER.findall(payment.reference or "")),
            (payment.payer_name or "").strip().lower(),
        )
        for payment in payments
    }
    numbers = set().union(*(n for n, _ in wanted.values()))
    names = {name for _, name in wanted.values() if name}
    amounts = {payment.amount for payment in payments}
    open_amount, _ = owed_expression(Invoice)
    buyer_name = func.lower(Invoice.buyer["name"].astext)
    candidates = await read(
        session,
        select(
            Invoice.id, Invoice.number, Invoice.business_entity_id, Invoice.due_date,
            buyer_name.label("buyer_name"), open_amount.label("open"),
        )
        .where(
            any_of(Invoice.business_entity_id, {p.business_entity_id for p in payments}),
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.status.not_in((PAID, CREDITED)),
            or_(any_of(Invoice.number, numbers), buyer_name.in_(names), open_amount.in_(amounts)),
        )
        .order_by(Invoice.due_date, Invoice.number),
    )  # fmt: skip
    result: dict[uuid.UUID, list[Suggestion]] = {}
    for payment in payments:
        payment_numbers, name = wanted[payment.id]
        ranked = []
        for candidate in candidates:
            if candidate.business_entity_id != payment.business_entity_id or candidate.open <= 0:
                continue
            reasons = tuple(
                reason
                for reason, applies in (
                    ("number in the reference", candidate.number in payment_numbers),
                    ("same amount", candidate.open == payment.amount),
                    ("payer's name", bool(name) and candidate.buyer_name == name),
                )
                if applies
            )
            if reasons:
                ranked.append(Suggestion(candidate.id, Decimal(candidate.open), reasons))
        ranked.sort(key=lambda s: -len(s.reasons))  # stable: the earliest due first among equals
        result[payment.id] = ranked[:limit]
    return result
