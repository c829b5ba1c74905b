"""Finance reports in the API: `outstandingInvoices` (ageing) and `financialSummary`."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.errors import ValidationFailed
from app.finance import reports
from graphql_schema.business_entities.types import BusinessEntity, load_business_entity
from graphql_schema.contacts.types import Contact, load_contact
from graphql_schema.errors import bad_input
from graphql_schema.node import decode_id
from graphql_schema.orders.types import VatAmount
from graphql_schema.pagination import After, Before, Connection, First, Last, PageArgs, connection_from_list
from graphql_schema.permissions import IsStaff

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@strawberry.type(description="Open amounts by how long they are past due (days after the due date).")
class AgeingBuckets:
    not_due: Decimal
    days_1_30: Decimal = strawberry.field(name="days1To30")
    days_31_60: Decimal = strawberry.field(name="days31To60")
    days_61_90: Decimal = strawberry.field(name="days61To90")
    over_90: Decimal = strawberry.field(name="over90")
    total: Decimal
    invoice_count: int

    @classmethod
    def of(cls, ageing: reports.Ageing) -> Self:
        return cls(**ageing.buckets, total=ageing.total, invoice_count=ageing.invoices)


@strawberry.type
class BrandAgeing:
    ageing: AgeingBuckets
    business_entity_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def business_entity(self, info: Info) -> BusinessEntity | None:
        return await load_business_entity(info, self.business_entity_id)


@strawberry.type
class AccountAgeing:
    ageing: AgeingBuckets
    account_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def account(self, info: Info) -> Contact | None:
        return await load_contact(info, self.account_id)


@strawberry.type(description="The open invoices the viewer sees, neither paid nor credited, by age.")
class OutstandingInvoices:
    as_of: date
    ageing: AgeingBuckets
    per_brand: list[BrandAgeing]
    accounts: strawberry.Private[list[AccountAgeing]]

    @strawberry.field(description="Per account, the largest total first.")
    def per_account(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[AccountAgeing]:
        return connection_from_list(
            self.accounts, PageArgs(first, after, last, before), info.context.max_page_size, lambda entry: entry
        )


@strawberry.type(description="A brand's month, in EUR.")
class FinancialSummary:
    month: str = strawberry.field(description="`2026-11`.")
    invoiced_net: Decimal
    invoiced_vat: list[VatAmount] = strawberry.field(description="VAT per rate of the invoices issued in the month.")
    invoiced_gross: Decimal
    credited_net: Decimal = strawberry.field(description="Credit notes issued in the month (negative).")
    credited_vat: list[VatAmount]
    credited_gross: Decimal
    received: Decimal = strawberry.field(description="Incoming payments dated in the month.")
    refunded: Decimal
    outstanding_at_month_end: Decimal = strawberry.field(
        description="What invoices issued by the month's end still asked at its end."
    )
    commissions_accrued: Decimal = strawberry.field(description="Commissions earned in the month, not cancelled.")
    commissions_paid: Decimal = strawberry.field(description="Commissions that moved to paid in the month.")
    business_entity_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def business_entity(self, info: Info) -> BusinessEntity | None:
        return await load_business_entity(info, self.business_entity_id)


def _brand(value: relay.GlobalID) -> uuid.UUID:
    try:
        return decode_id(value, expected="BusinessEntity", field="businessEntityId")
    except ValidationFailed as exc:
        raise bad_input(exc.message) from None


def _vat(lines: list[reports.VatLine]) -> list[VatAmount]:
    return [VatAmount(rate=v.rate, base=v.base, amount=v.amount) for v in lines]


@strawberry.type
class FinanceReportQueries:
    @strawberry.field(description="Open invoices by age, overall, per brand and per account.")
    async def outstanding_invoices(
        self, info: Info, business_entity_id: relay.GlobalID | None = None, as_of: date | None = None
    ) -> OutstandingInvoices:
        brand = (
            decode_id(business_entity_id, expected="BusinessEntity", field="businessEntityId")
            if business_entity_id
            else None
        )
        async with info.context.db() as session:
            found = await reports.outstanding(
                session=session, viewer=info.context.viewer, business_entity_id=brand, as_of=as_of
            )
        return OutstandingInvoices(
            as_of=found.as_of,
            ageing=AgeingBuckets.of(found.overall),
            per_brand=[
                BrandAgeing(ageing=AgeingBuckets.of(a), business_entity_id=b) for b, a in found.per_brand.items()
            ],
            accounts=[AccountAgeing(ageing=AgeingBuckets.of(a), account_id=c) for c, a in found.per_account.items()],
        )

    @strawberry.field(permission_classes=[IsStaff], description="A brand's month: invoiced, credited, received, owed.")
    async def financial_summary(
        self,
        info: Info,
        business_entity_id: relay.GlobalID,
        month: Annotated[str, strawberry.argument(description="`YYYY-MM`.")],
    ) -> FinancialSummary:
        brand = _brand(business_entity_id)
        matched = _MONTH.fullmatch(month)
        if matched is None or not 1 <= int(matched.group(2)) <= 12 or not 2000 <= int(matched.group(1)) <= 2100:
            raise bad_input("`month` is YYYY-MM (2000-01 to 2100-12).")
        async with info.context.db() as session:
            found = await reports.financial_summary(
                session=session, business_entity_id=brand, month=date(int(matched.group(1)), int(matched.group(2)), 1)
            )
        return FinancialSummary(
            month=month,
            invoiced_net=found.invoiced_net,
            invoiced_vat=_vat(found.invoiced_vat),
            invoiced_gross=found.invoiced_gross,
            credited_net=found.credited_net,
            credited_vat=_vat(found.credited_vat),
            credited_gross=found.credited_gross,
            received=found.received,
            refunded=found.refunded,
            outstanding_at_month_end=found.outstanding_at_month_end,
            commissions_accrued=found.commissions_accrued,
            commissions_paid=found.commissions_paid,
            business_entity_id=brand,
        )
