"""Finance queries: `invoices` (filter, paging), `billingDocument(number:)`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from app import text
from app.errors import ValidationFailed
from app.finance import service
from app.finance.models import InvoiceKind
from app.finance.service import InvoiceFilter
from graphql_schema.errors import bad_input
from graphql_schema.finance.types import BillingDocument, Invoice, document_of
from graphql_schema.node import decode_id
from graphql_schema.pagination import After, Before, Connection, First, Last, PageArgs, filtered_connection


@strawberry.input
class InvoiceFilterInput:
    status: list[str] | None = strawberry.field(
        default=None,
        description=f"Any of these statuses (issued, partially_paid, paid, credited; at most "
        f"{text.STATUS_NAME_LENGTH} characters each).",
    )
    business_entity_id: relay.GlobalID | None = None
    account_id: relay.GlobalID | None = strawberry.field(default=None, description="Billed to this contact.")
    overdue: bool | None = strawberry.field(default=None, description="Past the due date, neither paid nor credited.")
    issued_from: date | None = strawberry.field(default=None, description="Issued on or after.")
    issued_to: date | None = strawberry.field(default=None, description="Issued on or before.")


def _to_filter(filter_in: InvoiceFilterInput | None) -> InvoiceFilter:
    if filter_in is None:
        return InvoiceFilter(kinds=(InvoiceKind.INVOICE,))
    try:
        return InvoiceFilter(
            kinds=(InvoiceKind.INVOICE,),
            statuses=tuple(filter_in.status or ()),
            business_entity_id=decode_id(
                filter_in.business_entity_id, expected="BusinessEntity", field="businessEntityId"
            )
            if filter_in.business_entity_id
            else None,
            account_contact_id=decode_id(filter_in.account_id, expected="Contact", field="accountId")
            if filter_in.account_id
            else None,
            overdue=filter_in.overdue,
            issued_from=filter_in.issued_from,
            issued_to=filter_in.issued_to,
        )
    except ValidationFailed as exc:
        raise bad_input(f"filter.{exc.field}: {exc.message}") from None


@strawberry.type
class FinanceQueries:
    @strawberry.field(description="Invoices the viewer may see (those of its orders), newest first.")
    async def invoices(
        self,
        info: Info,
        filter: InvoiceFilterInput | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Invoice]:
        return await filtered_connection(
            info,
            PageArgs(first, after, last, before),
            _to_filter(filter),
            service.count,
            service.search,
            Invoice.from_row,
        )

    @strawberry.field(description="An invoice or credit note by its number (`CC-F-2026-00001`).")
    async def billing_document(
        self,
        info: Info,
        number: Annotated[str, strawberry.argument(description=f"At most {text.DOCUMENT_NUMBER_LENGTH} characters.")],
    ) -> BillingDocument | None:
        async with info.context.db() as session:
            row = await service.get_by_number(session=session, number=number, viewer=info.context.viewer)
        return document_of(row) if row is not None else None
