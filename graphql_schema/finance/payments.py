"""Payments in the API: `Payment`, allocations, suggestions; `payments`; `recordPayment`,
`allocatePayment`, `importBankStatement` (finance and admins)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Self

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.types import Info

from app.errors import ValidationFailed
from app.finance import payments, statements
from app.finance.models import PaymentDirection, PaymentMethod
from app.finance.payments import AllocationIn, PaymentFilter, PaymentIn
from app.finance.statements import StatementFormat
from app.status.models import EntityType
from graphql_schema.contacts.types import Contact, contact_of
from graphql_schema.errors import NotFoundError, ValidationError, bad_input, mutate
from graphql_schema.execution import context_only
from graphql_schema.finance.errors import AmountExceedsOpen, StatementAlreadyImported, StatementUnreadable
from graphql_schema.finance.loaders import (
    AllocationsByDocumentLoader,
    AllocationsByPaymentLoader,
    DocumentByIdLoader,
    PaymentByIdLoader,
    SuggestionsLoader,
)
from graphql_schema.finance.types import BillingDocument, Invoice, document_of, load_invoice
from graphql_schema.inputs import line_field, text_field
from graphql_schema.loaders import now_or_later
from graphql_schema.node import decode_id, register_node
from graphql_schema.pagination import After, Before, Connection, First, Last, PageArgs, filtered_connection
from graphql_schema.permissions import IsFinance
from graphql_schema.rows import from_row
from graphql_schema.status.types import WithStatus

PaymentDirectionEnum = strawberry.enum(PaymentDirection, name="PaymentDirection")
PaymentMethodEnum = strawberry.enum(PaymentMethod, name="PaymentMethod")
StatementFormatEnum = strawberry.enum(StatementFormat, name="StatementFormat")


@strawberry.type(description="Part of a payment applied to a document: paid on an invoice, refunded on a credit note.")
class PaymentAllocation:
    amount: Decimal
    allocated_on: date
    invoice_id: strawberry.Private[uuid.UUID]
    payment_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row)

    @strawberry.field(description="The invoice or credit note.")
    @context_only
    def document(self, info: Info) -> BillingDocument | None:
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(DocumentByIdLoader),
            self.invoice_id,
            lambda row: document_of(row) if row is not None else None,
        )

    @strawberry.field(description="The payment (staff only: null for partners and customers).")
    @context_only
    async def payment(self, info: Info) -> Payment | None:
        return await load_payment(info, self.payment_id)


def allocations_field(info: Info, document_id: uuid.UUID) -> list[PaymentAllocation]:
    return now_or_later(  # type: ignore[return-value]
        info.context.loaders.get(AllocationsByDocumentLoader),
        document_id,
        lambda rows: [PaymentAllocation.from_row(r) for r in rows],
    )


@strawberry.type(description="An open invoice a waiting payment may pay, and why it is suggested.")
class PaymentSuggestion:
    open_amount: Decimal
    reasons: list[str]
    invoice_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def invoice(self, info: Info) -> Invoice | None:
        return await load_invoice(info, self.invoice_id)


@strawberry.type(
    description=(
        "Money received (INCOMING) or paid back (OUTGOING), by hand or from a bank statement. Staff only. What an "
        "incoming payment does not allocate waits, or is kept as the account's credit (`on_account`)."
    )
)
class Payment(relay.Node, WithStatus):
    entity_type = EntityType.PAYMENT

    id: relay.NodeID[str]
    direction: PaymentDirectionEnum  # type: ignore[valid-type]
    amount: Decimal
    currency: str
    paid_on: date
    method: PaymentMethodEnum  # type: ignore[valid-type]
    reference: str | None
    payer_name: str | None
    payer_iban: str | None
    from_bank_statement: bool
    created_at: datetime
    contact_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row, id=str(row.id), uuid=row.id, from_bank_statement=row.statement_entry_id is not None)

    @strawberry.field(description="The account it came from or went to.")
    @context_only
    def contact(self, info: Info) -> Contact | None:
        return contact_of(info, self.contact_id)  # type: ignore[return-value]

    @strawberry.field
    @context_only
    def allocations(self, info: Info) -> list[PaymentAllocation]:
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(AllocationsByPaymentLoader),
            self.uuid,
            lambda rows: [PaymentAllocation.from_row(r) for r in rows],
        )

    @strawberry.field(description="What it has not allocated (for an incoming payment on account: the credit).")
    @context_only
    def unallocated_amount(self, info: Info) -> Decimal:
        amount = self.amount
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(AllocationsByPaymentLoader),
            self.uuid,
            lambda rows: amount - sum((r.amount for r in rows), Decimal(0)),
        )

    @strawberry.field(description="For a payment that waits: open invoices it may pay, best first.")
    async def suggestions(self, info: Info) -> list[PaymentSuggestion]:
        found = await info.context.loaders.get(SuggestionsLoader).load(self.uuid)
        return [
            PaymentSuggestion(open_amount=s.open_amount, reasons=list(s.reasons), invoice_id=s.invoice_id)
            for s in found
        ]


async def load_payment(info: Info, payment_id: uuid.UUID | None) -> Payment | None:
    if payment_id is None:
        return None
    row = await info.context.loaders.get(PaymentByIdLoader).load(payment_id)
    return Payment.from_row(row) if row is not None else None


async def _load_nodes(info: Info, ids: Sequence[uuid.UUID]) -> list[Payment | None]:
    rows = await info.context.loaders.get(PaymentByIdLoader).load_many(ids)
    return [Payment.from_row(row) if row is not None else None for row in rows]


register_node("Payment", _load_nodes)


# --- queries ---------------------------------------------------------------------------------------


@strawberry.input
class PaymentFilterInput:
    status: list[str] | None = strawberry.field(
        default=None,
        description="Any of: unallocated, partially_allocated, on_account, allocated (waiting: the first two).",
    )
    business_entity_id: relay.GlobalID | None = None
    contact_id: relay.GlobalID | None = None
    direction: PaymentDirectionEnum | None = None  # type: ignore[valid-type]


def _to_filter(filter_in: PaymentFilterInput | None) -> PaymentFilter:
    if filter_in is None:
        return PaymentFilter()
    try:
        return PaymentFilter(
            statuses=tuple(filter_in.status or ()),
            business_entity_id=decode_id(
                filter_in.business_entity_id, expected="BusinessEntity", field="businessEntityId"
            )
            if filter_in.business_entity_id
            else None,
            contact_id=decode_id(filter_in.contact_id, expected="Contact", field="contactId")
            if filter_in.contact_id
            else None,
            direction=filter_in.direction,
        )
    except ValidationFailed as exc:
        raise bad_input(f"filter.{exc.field}: {exc.message}") from None


@strawberry.type
class PaymentQueries:
    @strawberry.field(
        description="Payments, newest first (staff; partners and customers see their invoices' allocations)."
    )
    async def payments(
        self,
        info: Info,
        filter: PaymentFilterInput | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Payment]:
        return await filtered_connection(
            info,
            PageArgs(first, after, last, before),
            _to_filter(filter),
            payments.count,
            payments.search,
            Payment.from_row,
        )


# --- mutations -------------------------------------------------------------------------------------


@strawberry.input(description="Part of a payment for one document: an invoice, or (a refund) a credit note.")
class AllocationInput:
    document_id: relay.GlobalID = strawberry.field(description="An Invoice id; for a refund a CreditNote id.")
    amount: Decimal = strawberry.field(description="EUR, above 0, in cents; at most what the document still asks.")


@strawberry.input
class RecordPaymentInput:
    business_entity_id: relay.GlobalID = strawberry.field(description="The brand that received or pays it.")
    amount: Decimal = strawberry.field(description="EUR, above 0, in cents.")
    paid_on: date
    method: PaymentMethodEnum  # type: ignore[valid-type]
    direction: PaymentDirectionEnum = PaymentDirection.INCOMING  # type: ignore[valid-type]
    reference: str | None = text_field(500, default=None)
    payer_name: str | None = line_field(200, default=None)
    payer_iban: str | None = line_field(42, default=None)
    contact_id: relay.GlobalID | None = strawberry.field(default=None, description="The account that paid or is paid.")
    allocations: list[AllocationInput] = strawberry.field(default_factory=list)
    keep_rest_on_account: bool = strawberry.field(
        default=False, description="What is not allocated is the account's credit (an overpayment)."
    )


@strawberry.input
class AllocatePaymentInput:
    payment_id: relay.GlobalID
    allocations: list[AllocationInput] = strawberry.field(default_factory=list)
    keep_rest_on_account: bool = False


@strawberry.input(description="A bank statement as exported by the bank: CAMT.053 XML or MT940 text.")
class ImportBankStatementInput:
    format: StatementFormatEnum  # type: ignore[valid-type]
    content: str


@strawberry.type
class PaymentSuccess:
    payment: Payment


@strawberry.type(description="An imported statement.")
class BankStatement:
    account_iban: str
    statement_key: str
    format: str
    entries: int
    opening_balance: Decimal | None
    closing_balance: Decimal | None


@strawberry.type
class ImportBankStatementSuccess:
    statement: BankStatement
    payments: list[Payment] = strawberry.field(description="One per new incoming entry.")
    matched: int = strawberry.field(description="Payments allocated at once (a certain match).")
    skipped: int = strawberry.field(description="Entries an earlier statement brought already.")


PaymentResult = Annotated[
    PaymentSuccess | AmountExceedsOpen | NotFoundError | ValidationError, strawberry.union("PaymentResult")
]
ImportBankStatementResult = Annotated[
    ImportBankStatementSuccess | StatementAlreadyImported | StatementUnreadable | ValidationError,
    strawberry.union("ImportBankStatementResult"),
]


def _allocations(items: list[AllocationInput]) -> list[AllocationIn]:
    found = []
    for item in items:
        expected = "CreditNote" if item.document_id.type_name == "CreditNote" else "Invoice"
        found.append(AllocationIn(decode_id(item.document_id, expected=expected, field="allocations"), item.amount))
    return found


async def _payment_success(info: Info, payment_id: uuid.UUID) -> PaymentSuccess:
    payment = await load_payment(info, payment_id)
    assert payment is not None, "finance sees every payment"
    return PaymentSuccess(payment=payment)


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(permission_classes=[IsFinance], description="A payment received or a refund, allocated.")
    async def record_payment(self, info: Info, input: RecordPaymentInput) -> PaymentResult:
        async def change(session: AsyncSession) -> Any:
            payment_in = PaymentIn(
                business_entity_id=decode_id(
                    input.business_entity_id, expected="BusinessEntity", field="business_entity_id"
                ),
                amount=input.amount,
                paid_on=input.paid_on,
                method=input.method,
                direction=input.direction,
                reference=input.reference,
                payer_name=input.payer_name,
                payer_iban=input.payer_iban,
                contact_id=decode_id(input.contact_id, expected="Contact", field="contact_id")
                if input.contact_id
                else None,
                allocations=_allocations(input.allocations),
                keep_rest_on_account=input.keep_rest_on_account,
            )
            payment = await payments.record_payment(session=session, payment_in=payment_in, actor=info.context.actor)
            return payment.id

        return await mutate(info, change, lambda payment_id: _payment_success(info, payment_id))

    @strawberry.mutation(
        permission_classes=[IsFinance],
        description="Allocate (more of) a payment: one that waits, or credit kept on the account.",
    )
    async def allocate_payment(self, info: Info, input: AllocatePaymentInput) -> PaymentResult:
        async def change(session: AsyncSession) -> Any:
            payment = await payments.allocate(
                session=session,
                payment_id=decode_id(input.payment_id, expected="Payment", field="payment_id"),
                allocations=_allocations(input.allocations),
                keep_rest_on_account=input.keep_rest_on_account,
                actor=info.context.actor,
            )
            return payment.id

        return await mutate(info, change, lambda payment_id: _payment_success(info, payment_id))

    @strawberry.mutation(
        permission_classes=[IsFinance],
        description="Import a bank statement once: new incoming entries become payments, certain matches allocated.",
    )
    async def import_bank_statement(self, info: Info, input: ImportBankStatementInput) -> ImportBankStatementResult:
        async def change(session: AsyncSession) -> Any:
            return await statements.import_statement(
                session=session, statement_format=input.format, content=input.content, actor=info.context.actor
            )

        async def answer(result: statements.ImportResult) -> ImportBankStatementSuccess:
            rows = await info.context.loaders.get(PaymentByIdLoader).load_many([p.id for p in result.payments])
            return ImportBankStatementSuccess(
                statement=from_row(BankStatement, result.statement),
                payments=[Payment.from_row(row) for row in rows if row is not None],
                matched=result.matched,
                skipped=result.skipped,
            )

        return await mutate(info, change, answer)
