"""`addOrderLine`, `updateOrderLine`, `removeOrderLine` (staff; not once invoiced or final)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.types import Info
from strawberry.types.unset import UnsetType

from app import text
from app.errors import ValidationFailed
from app.keep import KEEP, Keep
from app.orders import lines
from app.orders.lines import LineIn
from graphql_schema.errors import NotFoundError, ValidationError, mutate
from graphql_schema.finance.errors import LineAlreadyInvoiced
from graphql_schema.inputs import line_field
from graphql_schema.node import decode_id, plain_id
from graphql_schema.orders.errors import OrderLocked
from graphql_schema.orders.types import Order, load_order
from graphql_schema.permissions import IsStaffEditor

T = TypeVar("T")


_QUANTITY = f"Above 0, at most {lines.MAX_QUANTITY}, at most 3 decimals."
_UNIT_PRICE = f"EUR, from 0 to {lines.MAX_UNIT_PRICE}, in cents."
_DISCOUNT = "A percentage from 0 to 100, at most 2 decimals."
_VAT_RATE = "21, 9 or 0."


@strawberry.input(description="Price, description and VAT rate default to the article's.")
class AddOrderLineInput:
    order_id: relay.GlobalID
    quantity: Decimal = strawberry.field(description=_QUANTITY)
    article_id: relay.GlobalID | None = None
    description: str | None = line_field(text.LINE_DESCRIPTION_LENGTH, default=None)
    unit_price: Decimal | None = strawberry.field(default=None, description=_UNIT_PRICE)
    discount_percent: Decimal | None = strawberry.field(default=None, description=_DISCOUNT)
    vat_rate: Decimal | None = strawberry.field(default=None, description=_VAT_RATE)
    is_commissionable: bool | None = None


@strawberry.input(
    description=(
        "Fields left out stay as they are. No field of a line can be cleared: null is refused with a "
        "ValidationError naming the field (the rule of every update: left out keeps, null clears where "
        "a field may be empty)."
    )
)
class UpdateOrderLineInput:
    id: strawberry.ID
    quantity: Decimal | None = strawberry.field(default=strawberry.UNSET, description=_QUANTITY)
    description: str | None = line_field(text.LINE_DESCRIPTION_LENGTH, default=strawberry.UNSET)
    unit_price: Decimal | None = strawberry.field(default=strawberry.UNSET, description=_UNIT_PRICE)
    discount_percent: Decimal | None = strawberry.field(default=strawberry.UNSET, description=_DISCOUNT)
    vat_rate: Decimal | None = strawberry.field(default=strawberry.UNSET, description=_VAT_RATE)
    is_commissionable: bool | None = strawberry.UNSET


@strawberry.input
class RemoveOrderLineInput:
    id: strawberry.ID


@strawberry.type(description="The order as it is after the change, with its lines and totals.")
class OrderLineSuccess:
    order: Order


OrderLineResult = Annotated[
    OrderLineSuccess | ValidationError | NotFoundError | OrderLocked | LineAlreadyInvoiced,
    strawberry.union("OrderLineResult"),
]


def _given(value: T | UnsetType | None, field: str, *, update: bool) -> T | Keep:
    """One field of a line's input. Left out: kept (an update) or the default (a new line, where
    null means the same). An update's explicit null would clear the field, and no field of a
    line may be empty: refused, naming the field (the rule of every update, docs/design.md)."""
    if isinstance(value, UnsetType):
        return KEEP
    if value is None:
        if update:
            raise ValidationFailed(f"A line's {field} cannot be cleared; leave it out to keep it.", field=field)
        return KEEP
    return value


def line_in_of(input: Any, *, article_id: Any) -> LineIn:
    """The line fields of an input (an order line's to add or update, a quote line, extra work):
    left out keeps; null is refused on an update, and means "from the article" otherwise."""
    update = isinstance(input, UpdateOrderLineInput)
    return LineIn(
        article_id=article_id,
        description=_given(input.description, "description", update=update),
        quantity=_given(input.quantity, "quantity", update=update),
        unit_price=_given(input.unit_price, "unit_price", update=update),
        discount_percent=_given(input.discount_percent, "discount_percent", update=update),
        vat_rate=_given(input.vat_rate, "vat_rate", update=update),
        is_commissionable=_given(input.is_commissionable, "is_commissionable", update=update),
    )


async def _line_success(info: Info, order_id: uuid.UUID) -> OrderLineSuccess:
    """The order of the changed line, read back through the viewer's loaders."""
    order = await load_order(info, order_id)
    assert order is not None, "whoever may change an order's lines may see it"
    return OrderLineSuccess(order=order)


@strawberry.type
class OrderLineMutations:
    @strawberry.mutation(
        description="Add a line from the brand's catalogue to an order whose lines may still change (staff).",
        permission_classes=[IsStaffEditor],
    )
    async def add_order_line(self, info: Info, input: AddOrderLineInput) -> OrderLineResult:
        async def change(session: AsyncSession) -> Any:
            order_id = decode_id(input.order_id, expected="Order", field="order_id")
            line = await lines.add_line(
                session=session,
                order_id=order_id,
                actor=info.context.actor,
                line_in=line_in_of(
                    input,
                    article_id=decode_id(input.article_id, expected="Article", field="article_id")
                    if input.article_id
                    else KEEP,
                ),
            )
            return line.order_id

        return await mutate(info, change, lambda order_id: _line_success(info, order_id))

    @strawberry.mutation(
        description=(
            "Change a line's quantity, description, price, discount or VAT rate while the order's lines may change "
            "and the line is not billed (staff)."
        ),
        permission_classes=[IsStaffEditor],
    )
    async def update_order_line(self, info: Info, input: UpdateOrderLineInput) -> OrderLineResult:
        async def change(session: AsyncSession) -> Any:
            line = await lines.update_line(
                session=session,
                line_id=plain_id(input.id, entity="LineItem", field="id"),
                actor=info.context.actor,
                line_in=line_in_of(input, article_id=KEEP),
            )
            return line.order_id

        return await mutate(info, change, lambda order_id: _line_success(info, order_id))

    @strawberry.mutation(
        description="Remove a line that was never billed, while the order's lines may change (staff).",
        permission_classes=[IsStaffEditor],
    )
    async def remove_order_line(self, info: Info, input: RemoveOrderLineInput) -> OrderLineResult:
        async def change(session: AsyncSession) -> Any:
            return await lines.remove_line(
                session=session, line_id=plain_id(input.id, entity="LineItem", field="id"), actor=info.context.actor
            )

        return await mutate(info, change, lambda order_id: _line_success(info, order_id))
