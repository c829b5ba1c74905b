"""Order queries: `orders` (filter, order, paging), `order(id:)`, `orderByNumber`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from app import text
from app.errors import ValidationFailed
from app.orders import service
from app.orders.service import OrderFilter, OrderSortField, OrderSorting
from graphql_schema.errors import bad_input
from graphql_schema.node import decode_id, parse_uuid
from graphql_schema.orders.prefetch import Selected, prefetch_orders
from graphql_schema.orders.types import Order, load_order
from graphql_schema.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    PageArgs,
    SortDirection,
    connection_from_query,
)

OrderSortFieldEnum = strawberry.enum(OrderSortField, name="OrderSortField")


@strawberry.input
class OrderFilterInput:
    status: list[str] | None = strawberry.field(
        default=None, description=f"Any of these statuses (each at most {text.STATUS_NAME_LENGTH} characters)."
    )
    business_entity_id: relay.GlobalID | None = None
    contact_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Orders where this contact is account, end customer or in the chain."
    )
    created_from: datetime | None = strawberry.field(default=None, description="Created at or after.")
    created_to: datetime | None = strawberry.field(default=None, description="Created before.")
    overdue: bool | None = strawberry.field(
        default=None,
        description="Marked overdue by the SLA monitor (past the deadline of its status at its last hourly run).",
    )


@strawberry.input
class OrderSort:
    field: OrderSortFieldEnum = OrderSortField.CREATED_AT  # type: ignore[valid-type]
    direction: SortDirection = SortDirection.DESC


def _to_filter(filter_in: OrderFilterInput | None) -> OrderFilter:
    if filter_in is None:
        return OrderFilter()
    try:
        brand = (
            decode_id(filter_in.business_entity_id, expected="BusinessEntity", field="businessEntityId")
            if filter_in.business_entity_id
            else None
        )
        contact = (
            decode_id(filter_in.contact_id, expected="Contact", field="contactId") if filter_in.contact_id else None
        )
        return OrderFilter(
            statuses=tuple(filter_in.status or ()),
            business_entity_id=brand,
            contact_id=contact,
            created_from=filter_in.created_from,
            created_to=filter_in.created_to,
            overdue=filter_in.overdue,
        )
    except ValidationFailed as exc:
        raise bad_input(f"filter.{exc.field}: {exc.message}") from None


async def orders_connection(
    info: Info, filter_in: OrderFilter, order: OrderSorting, page: PageArgs
) -> Connection[Order]:
    ctx = info.context

    async def count() -> int:
        async with ctx.db() as session:
            return await service.count(session=session, filter_in=filter_in, viewer=ctx.viewer)

    async def fetch(offset: int, limit: int) -> Sequence[Any]:
        async with ctx.db() as session:
            rows = await service.search(
                session=session, filter_in=filter_in, order=order, viewer=ctx.viewer, offset=offset, limit=limit
            )
        await prefetch_orders(info, list(rows), Selected(info))
        return rows

    return await connection_from_query(page, ctx.max_page_size, count, fetch, Order.from_model)


@strawberry.type
class OrderQueries:
    @strawberry.field(description="Orders the viewer may see, filtered and ordered (newest first).")
    async def orders(
        self,
        info: Info,
        filter: OrderFilterInput | None = None,
        order_by: OrderSort | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Order]:
        order = OrderSorting(
            field=order_by.field if order_by else OrderSortField.CREATED_AT,
            descending=order_by is None or order_by.direction is SortDirection.DESC,
        )
        return await orders_connection(info, _to_filter(filter), order, PageArgs(first, after, last, before))

    @strawberry.field(description="One order, or null when it does not exist for the viewer.")
    async def order(self, info: Info, id: relay.GlobalID) -> Order | None:
        return await load_order(info, parse_uuid(id.node_id) if id.type_name == "Order" else None)

    @strawberry.field(description="One order by its number (`CC-2026-00001`).")
    async def order_by_number(
        self,
        info: Info,
        number: Annotated[str, strawberry.argument(description=f"At most {text.DOCUMENT_NUMBER_LENGTH} characters.")],
    ) -> Order | None:
        async with info.context.db() as session:
            order_id = await service.get_id_by_number(session=session, number=number)
        return await load_order(info, order_id)
