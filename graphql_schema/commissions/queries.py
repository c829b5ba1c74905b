"""`commissionOverview`: count and total per beneficiary, for payout."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import strawberry
from strawberry.types import Info

from app.commissions import service
from app.orders.totals import ZERO
from graphql_schema.commissions.types import (
    BeneficiaryCommissions,
    PeriodArgument,
    StatusArgument,
    commission_filter,
)
from graphql_schema.pagination import After, Before, Connection, First, Last, PageArgs, connection_from_list


@strawberry.type(description="The visible commissions of a period grouped per beneficiary, largest total first.")
class CommissionOverview:
    count: int = strawberry.field(description="Commissions in the overview.")
    total: Decimal
    currency: str
    entries: strawberry.Private[Sequence[service.BeneficiaryTotal]]

    @strawberry.field(description="Per beneficiary; `totalCount` is the number of beneficiaries.")
    def beneficiaries(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[BeneficiaryCommissions]:
        # only the page's entries become objects (the top partner has 464 beneficiaries)
        return connection_from_list(
            self.entries, PageArgs(first, after, last, before), info.context.max_page_size, _beneficiary
        )


def _beneficiary(entry: service.BeneficiaryTotal) -> BeneficiaryCommissions:
    return BeneficiaryCommissions(
        count=entry.count, total=entry.total, currency="EUR", beneficiary_id=entry.beneficiary_id
    )


@strawberry.type
class CommissionQueries:
    @strawberry.field(description="Commissions per beneficiary; a partner sees its own and its sub-partners'.")
    async def commission_overview(
        self, info: Info, period: PeriodArgument = None, status: StatusArgument = None
    ) -> CommissionOverview:
        filter_in = commission_filter(status, period)
        async with info.context.db() as session:
            rows = await service.overview(session=session, filter_in=filter_in, viewer=info.context.viewer)
        return CommissionOverview(
            count=sum(r.count for r in rows),
            total=sum((r.total for r in rows), ZERO),
            currency="EUR",
            entries=rows,
        )
