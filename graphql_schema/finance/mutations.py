"""`generateInvoice`, `creditInvoice` (finance and admins)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.types import Info

from app import text
from app.finance import service
from app.finance.service import CreditRequest, InvoiceRequest
from graphql_schema.errors import NotFoundError, ValidationError, mutate
from graphql_schema.finance.errors import LineAlreadyInvoiced, NothingToCredit, NothingToInvoice
from graphql_schema.finance.types import CreditNote, Invoice, load_credit_note, load_invoice
from graphql_schema.inputs import text_field
from graphql_schema.node import decode_id, plain_id
from graphql_schema.numbering.errors import NumberingNotConfiguredError
from graphql_schema.permissions import IsFinance


@strawberry.input(description="Bill an order: the lines chosen, or every line not billed yet.")
class GenerateInvoiceInput:
    order_id: relay.GlobalID
    line_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Order lines (`LineItem.id`); left out: every line not billed yet."
    )


@strawberry.input(description="Credit an invoice: the lines chosen, or every line not credited yet.")
class CreditInvoiceInput:
    invoice_id: relay.GlobalID
    reason: str = text_field(text.REASON_LENGTH, "Why (printed on the credit note).")
    line_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Invoice lines (`InvoiceLine.id`); left out: every line not credited yet."
    )


@strawberry.type
class InvoiceSuccess:
    invoice: Invoice


@strawberry.type
class CreditNoteSuccess:
    credit_note: CreditNote
    invoice: Invoice = strawberry.field(description="The invoice it credits, with what is still owed.")


GenerateInvoiceResult = Annotated[
    InvoiceSuccess
    | NothingToInvoice
    | LineAlreadyInvoiced
    | NotFoundError
    | ValidationError
    | NumberingNotConfiguredError,
    strawberry.union("GenerateInvoiceResult"),
]
CreditInvoiceResult = Annotated[
    CreditNoteSuccess | NothingToCredit | NotFoundError | ValidationError, strawberry.union("CreditInvoiceResult")
]


async def _invoice_success(info: Info, invoice_id: uuid.UUID) -> InvoiceSuccess:
    invoice = await load_invoice(info, invoice_id)
    assert invoice is not None, "whoever may bill an order may see it"
    return InvoiceSuccess(invoice=invoice)


async def _credit_success(info: Info, ids: tuple[uuid.UUID, uuid.UUID]) -> CreditNoteSuccess:
    note_id, invoice_id = ids
    note, invoice = await load_credit_note(info, note_id), await load_invoice(info, invoice_id)
    assert note is not None and invoice is not None, "whoever may credit an invoice may see it"
    return CreditNoteSuccess(credit_note=note, invoice=invoice)


@strawberry.type
class FinanceMutations:
    @strawberry.mutation(
        permission_classes=[IsFinance],
        description="A new invoice for an order's lines, numbered in the brand's invoice series.",
    )
    async def generate_invoice(self, info: Info, input: GenerateInvoiceInput) -> GenerateInvoiceResult:
        async def change(session: AsyncSession) -> Any:
            request = InvoiceRequest(
                order_id=decode_id(input.order_id, expected="Order", field="order_id"),
                line_ids=None
                if input.line_ids is None
                else [plain_id(i, entity="LineItem", field="line_ids") for i in input.line_ids],
            )
            invoice = await service.generate_invoice(session=session, request=request, actor=info.context.actor)
            return invoice.id

        return await mutate(info, change, lambda invoice_id: _invoice_success(info, invoice_id))

    @strawberry.mutation(
        permission_classes=[IsFinance],
        description="A credit note negating lines of an invoice, numbered in the same series.",
    )
    async def credit_invoice(self, info: Info, input: CreditInvoiceInput) -> CreditInvoiceResult:
        async def change(session: AsyncSession) -> Any:
            request = CreditRequest(
                invoice_id=decode_id(input.invoice_id, expected="Invoice", field="invoice_id"),
                reason=input.reason,
                line_ids=None
                if input.line_ids is None
                else [plain_id(i, entity="InvoiceLine", field="line_ids") for i in input.line_ids],
            )
            note = await service.credit_invoice(session=session, request=request, actor=info.context.actor)
            return note.id, request.invoice_id

        return await mutate(info, change, lambda ids: _credit_success(info, ids))
