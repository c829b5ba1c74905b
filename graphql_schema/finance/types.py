"""Invoices and credit notes (`BillingDocument`), their lines and parties, the billing state."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Self
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.finance import service
from app.finance.models import InvoiceKind
from app.finance.pdf import PDF_ROUTE
from app.finance.service import BillingState
from app.orders.totals import compute
from app.status.models import EntityType
from graphql_schema.execution import context_only
from graphql_schema.finance.loaders import (
    CreditNotesByInvoiceIdLoader,
    DocumentByIdLoader,
    DocumentLinesLoader,
    OwedLoader,
)
from graphql_schema.loaders import now_or_later
from graphql_schema.node import register_node
from graphql_schema.rows import from_row
from graphql_schema.status.types import WithStatus

if TYPE_CHECKING:
    from graphql_schema.finance.payments import PaymentAllocation
    from graphql_schema.orders.types import Order, VatAmount

BillingStateEnum = strawberry.enum(
    BillingState,
    name="BillingState",
    description=(
        "How far an order is billed: none of its lines, some, every line (on invoices not credited), "
        "or every line and every such invoice paid."
    ),
)


@strawberry.type(description="Who sold or bought, as the document says: copied when it was issued.")
class BillingParty:
    name: str
    street: str | None
    house_number: str | None
    postal_code: str | None
    city: str | None
    country_code: str | None
    vat_number: str | None
    email: str | None
    chamber_of_commerce_number: str | None = strawberry.field(description="The seller's (KvK).")
    iban: str | None = strawberry.field(description="The seller's account to pay to.")

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> Self:
        return cls(**{f.name: data.get(f.name) for f in dataclasses.fields(cls)})  # type: ignore[arg-type]


@strawberry.type(description="A billed line as issued; on a credit note its quantity and net are negative.")
class InvoiceLine:
    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    vat_rate: Decimal
    net_amount: Decimal
    id: strawberry.ID = strawberry.field(description="Names the line to credit (`creditInvoice`).")

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row, id=strawberry.ID(str(row.id)))


@strawberry.interface(
    description=(
        "A numbered document billing lines of one order: an invoice or a credit note. Issued once, never "
        "changed (a correction is a credit note); amounts in `currency`, rounded half-up to the cent."
    )
)
class BillingDocument(relay.Node):
    id: relay.NodeID[str]
    number: str = strawberry.field(description="`CC-F-2026-00001`: the brand's invoice series, gapless.")
    issue_date: date
    due_date: date
    currency: str
    net_amount: Decimal
    vat_amount: Decimal
    gross_amount: Decimal
    created_at: datetime

    uuid: strawberry.Private[UUID]
    order_id: strawberry.Private[UUID]
    seller_data: strawberry.Private[dict[str, Any]]
    buyer_data: strawberry.Private[dict[str, Any]]

    @strawberry.field(description="The brand that sold.")
    @context_only
    def seller(self) -> BillingParty:
        return BillingParty.from_snapshot(self.seller_data)

    @strawberry.field(description="The order's account, as it was when the document was issued.")
    @context_only
    def buyer(self) -> BillingParty:
        return BillingParty.from_snapshot(self.buyer_data)

    @strawberry.field
    @context_only
    def lines(self, info: Info) -> list[InvoiceLine]:
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(DocumentLinesLoader),
            self.uuid,
            lambda rows: [InvoiceLine.from_row(r) for r in rows],
        )

    @strawberry.field(description="VAT per rate: the rate's net base and the VAT on it.")
    @context_only
    def vat(self, info: Info) -> list[Annotated[VatAmount, strawberry.lazy("graphql_schema.orders.types")]]:
        from graphql_schema.orders.types import VatAmount

        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(DocumentLinesLoader),
            self.uuid,
            lambda rows: [VatAmount(rate=v.rate, base=v.base, amount=v.amount) for v in compute(rows).vat],
        )

    @strawberry.field(description="What payments allocated to it (an invoice), or refunds (a credit note).")
    @context_only
    def allocations(
        self, info: Info
    ) -> list[Annotated[PaymentAllocation, strawberry.lazy("graphql_schema.finance.payments")]]:
        from graphql_schema.finance.payments import allocations_field

        return allocations_field(info, self.uuid)

    @strawberry.field(description="The PDF of the document (send the same bearer token).")
    @context_only
    def pdf_url(self) -> str:
        return PDF_ROUTE.format(document_id=self.uuid)

    @strawberry.field
    @context_only
    async def order(self, info: Info) -> Annotated[Order, strawberry.lazy("graphql_schema.orders.types")] | None:
        from graphql_schema.orders.types import load_order

        return await load_order(info, self.order_id)


def _document_fields(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), "uuid": row.id, "seller_data": row.seller, "buyer_data": row.buyer}


@strawberry.type(description="An invoice: what the order's account owes for the lines it bills.")
class Invoice(BillingDocument, WithStatus):
    entity_type = EntityType.INVOICE

    status_name: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row, status_name=row.status, **_document_fields(row))

    @strawberry.field(description="Past its due date and neither paid nor credited.")
    @context_only
    def is_overdue(self) -> bool:
        return service.is_overdue(self.status_name, self.due_date)

    @strawberry.field(
        description=(
            "What is still owed: the gross amount less its credit notes and the payments allocated to it, "
            "plus what was refunded on its credit notes; negative while money is owed back."
        )
    )
    @context_only
    def open_amount(self, info: Info) -> Decimal:
        return now_or_later(info.context.loaders.get(OwedLoader), self.uuid, lambda owed: owed.open)  # type: ignore[return-value]

    @strawberry.field(description="What payments allocated to it.")
    @context_only
    def paid_amount(self, info: Info) -> Decimal:
        return now_or_later(info.context.loaders.get(OwedLoader), self.uuid, lambda owed: owed.paid)  # type: ignore[return-value]

    @strawberry.field(description="The credit notes that correct this invoice, oldest first.")
    @context_only
    def credit_notes(self, info: Info) -> list[CreditNote]:
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(CreditNotesByInvoiceIdLoader),
            self.uuid,
            lambda rows: [CreditNote.from_row(r) for r in rows],
        )


@strawberry.type(description="A credit note: negates lines of one invoice; what it takes off is no longer owed.")
class CreditNote(BillingDocument, WithStatus):
    entity_type = EntityType.CREDIT_NOTE

    reason: str | None
    credits_invoice_id: strawberry.Private[UUID]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row, **_document_fields(row))

    @strawberry.field(description="The invoice it corrects.")
    @context_only
    async def invoice(self, info: Info) -> Invoice | None:
        return await load_invoice(info, self.credits_invoice_id)


def document_of(row: Any) -> Invoice | CreditNote:
    return Invoice.from_row(row) if row.kind is InvoiceKind.INVOICE else CreditNote.from_row(row)


async def load_invoice(info: Info, invoice_id: uuid.UUID) -> Invoice | None:
    row = await info.context.loaders.get(DocumentByIdLoader).load(invoice_id)
    return Invoice.from_row(row) if row is not None and row.kind is InvoiceKind.INVOICE else None


async def load_credit_note(info: Info, note_id: uuid.UUID) -> CreditNote | None:
    row = await info.context.loaders.get(DocumentByIdLoader).load(note_id)
    return CreditNote.from_row(row) if row is not None and row.kind is InvoiceKind.CREDIT_NOTE else None


def _nodes_of(kind: InvoiceKind) -> Any:
    async def load(info: Info, ids: Sequence[uuid.UUID]) -> list[Any]:
        rows = await info.context.loaders.get(DocumentByIdLoader).load_many(ids)
        return [document_of(row) if row is not None and row.kind is kind else None for row in rows]

    return load


register_node("Invoice", _nodes_of(InvoiceKind.INVOICE))
register_node("CreditNote", _nodes_of(InvoiceKind.CREDIT_NOTE))
