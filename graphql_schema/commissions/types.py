"""The PartnerCommission type, the commission filter arguments and the per-beneficiary overview."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Self
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.types import Info

from app import text
from app.commissions.models import PartnerCommission as CommissionModel
from app.commissions.service import CommissionFilter
from app.errors import ValidationFailed
from app.status.models import EntityType
from graphql_schema.commissions.loaders import CommissionByIdLoader
from graphql_schema.contacts.types import Contact, contact_of, load_contact
from graphql_schema.errors import bad_input
from graphql_schema.execution import context_only
from graphql_schema.node import register_node
from graphql_schema.rows import from_row
from graphql_schema.status.types import WithStatus

if TYPE_CHECKING:
    from graphql_schema.orders.types import Order


@strawberry.input(description="Days in Dutch time (Europe/Amsterdam), both ends included.")
class PeriodInput:
    from_: date = strawberry.field(name="from")
    to: date


StatusArgument = Annotated[
    list[str] | None,
    strawberry.argument(
        description=(
            "Any of these statuses (pending, approved, paid, cancelled; "
            f"each at most {text.STATUS_NAME_LENGTH} characters)."
        )
    ),
]
PeriodArgument = Annotated[
    PeriodInput | None, strawberry.argument(description="Commissions earned (created) in this period.")
]


def commission_filter(status: list[str] | None, period: PeriodInput | None) -> CommissionFilter:
    try:
        return CommissionFilter(
            statuses=tuple(status or ()),
            earned_from=period.from_ if period else None,
            earned_to=period.to if period else None,
        )
    except ValidationFailed as exc:
        raise bad_input(f"{exc.field}: {exc.message}") from None


@strawberry.type(
    description=(
        "A partner's commission on one order: `rate` × the order's commissionable net, EUR, half-up to "
        "the cent. Follows the order's lines while pending; frozen once approved."
    )
)
class PartnerCommission(relay.Node, WithStatus):
    entity_type = EntityType.PARTNER_COMMISSION

    id: relay.NodeID[str]
    level: int = strawberry.field(description="The beneficiary's position in the order's channel chain.")
    rate: Decimal = strawberry.field(description="A fraction: 0.0500 = 5 %.")
    base_amount: Decimal = strawberry.field(description="The order's commissionable net amount.")
    amount: Decimal
    currency: str
    created_at: datetime = strawberry.field(description="When the order reached its commission-creating step.")
    updated_at: datetime

    uuid: strawberry.Private[UUID]
    order_id: strawberry.Private[UUID]
    beneficiary_contact_id: strawberry.Private[UUID]

    @classmethod
    def from_model(cls, row: CommissionModel) -> Self:
        return from_row(cls, row, id=str(row.id), uuid=row.id, currency="EUR")

    @strawberry.field
    @context_only
    async def order(self, info: Info) -> Annotated[Order, strawberry.lazy("graphql_schema.orders.types")] | None:
        from graphql_schema.orders.types import load_order

        return await load_order(info, self.order_id)

    @strawberry.field
    @context_only
    def beneficiary(self, info: Info) -> Contact | None:
        return contact_of(info, self.beneficiary_contact_id)  # type: ignore[return-value]


@strawberry.type(description="One beneficiary's commissions in an overview.")
class BeneficiaryCommissions:
    count: int
    total: Decimal
    currency: str
    beneficiary_id: strawberry.Private[UUID]

    @strawberry.field
    @context_only
    async def beneficiary(self, info: Info) -> Contact | None:
        return await load_contact(info, self.beneficiary_id)


async def _load_nodes(info: Info, ids: Sequence[uuid.UUID]) -> list[PartnerCommission | None]:
    rows = await info.context.loaders.get(CommissionByIdLoader).load_many(ids)
    return [PartnerCommission.from_model(row) if row is not None else None for row in rows]


register_node("PartnerCommission", _load_nodes)
