"""Order mutations: `createOrder`, `placeOrderOnHold`, `resumeOrder`."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.types import Info

from app import text
from app.orders import holds, service
from app.orders.holds import HoldIn
from app.orders.service import OrderCreate
from graphql_schema.errors import NotFoundError, PermissionDeniedError, ValidationError, mutate
from graphql_schema.inputs import text_field
from graphql_schema.node import decode_id
from graphql_schema.numbering.errors import NumberingNotConfiguredError
from graphql_schema.orders.errors import AlreadyOnHold, NotOnHold
from graphql_schema.orders.types import HoldReasonEnum, Order, OrderHold, load_order
from graphql_schema.permissions import CanChangeStatus, CanCreateOrders
from graphql_schema.status.errors import FinalStatus, InvalidStatusTransition, NoWorkflowError


@strawberry.input
class CreateOrderInput:
    business_entity_id: relay.GlobalID
    account_contact_id: relay.GlobalID
    end_customer_contact_id: relay.GlobalID | None = None
    channel_contact_ids: list[relay.GlobalID] = strawberry.field(
        default_factory=list, description="The channel chain in order: position 1 first."
    )
    notes: str | None = text_field(text.LONG_TEXT_LENGTH, default=None)


@strawberry.input
class PlaceOrderOnHoldInput:
    order_id: relay.GlobalID
    reason_category: HoldReasonEnum  # type: ignore[valid-type]
    details: str | None = text_field(text.LONG_TEXT_LENGTH, default=None)
    estimated_resume_date: date | None = None
    escalation_date: date | None = None
    notify_customer: bool = False
    notify_partner: bool = False


@strawberry.input
class ResumeOrderInput:
    order_id: relay.GlobalID
    reason: str | None = text_field(text.REASON_LENGTH, default=None)


@strawberry.type
class OrderSuccess:
    order: Order


@strawberry.type
class OrderHoldSuccess:
    order: Order
    hold: OrderHold


CreateOrderResult = Annotated[
    OrderSuccess
    | ValidationError
    | NotFoundError
    | PermissionDeniedError
    | NumberingNotConfiguredError
    | NoWorkflowError,
    strawberry.union("CreateOrderResult"),
]
PlaceOrderOnHoldResult = Annotated[
    OrderHoldSuccess | AlreadyOnHold | FinalStatus | InvalidStatusTransition | NotFoundError | ValidationError,
    strawberry.union("PlaceOrderOnHoldResult"),
]
ResumeOrderResult = Annotated[
    OrderHoldSuccess | NotOnHold | NotFoundError | ValidationError, strawberry.union("ResumeOrderResult")
]


async def _order_success(info: Info, result: tuple[uuid.UUID, Any]) -> OrderSuccess | OrderHoldSuccess:
    """The order read back through the viewer's loaders (with the hold, when one changed)."""
    order_id, hold = result
    order = await load_order(info, order_id)
    assert order is not None, "whoever may change an order may see it"
    return OrderSuccess(order=order) if hold is None else OrderHoldSuccess(order=order, hold=OrderHold.from_model(hold))


@strawberry.type
class OrderMutations:
    @strawberry.mutation(
        description=(
            "Create an order for a brand: account, end customer and channel chain, numbered from the brand's series "
            "and started in its workflow. Staff, or a partner for its own part of the hierarchy. Send an "
            "`Idempotency-Key` header so that a retry cannot create a second order."
        ),
        permission_classes=[CanCreateOrders],
    )
    async def create_order(self, info: Info, input: CreateOrderInput) -> CreateOrderResult:
        async def change(session: AsyncSession) -> Any:
            order_in = OrderCreate(
                business_entity_id=decode_id(
                    input.business_entity_id, expected="BusinessEntity", field="business_entity_id"
                ),
                account_contact_id=decode_id(input.account_contact_id, expected="Contact", field="account_contact_id"),
                end_customer_contact_id=(
                    decode_id(input.end_customer_contact_id, expected="Contact", field="end_customer_contact_id")
                    if input.end_customer_contact_id
                    else None
                ),
                channel_contact_ids=[
                    decode_id(gid, expected="Contact", field="channel_contact_ids") for gid in input.channel_contact_ids
                ],
                notes=input.notes,
            )
            order = await service.create(
                session=session, order_in=order_in, actor=info.context.actor, viewer=info.context.viewer
            )
            return order.id, None

        return await mutate(info, change, lambda result: _order_success(info, result))

    @strawberry.mutation(
        description=(
            "Put an order on hold with a reason category and details (optionally an estimated resume date and an "
            "escalation date); its status stays as it is until `resumeOrder`."
        ),
        permission_classes=[CanChangeStatus],
    )
    async def place_order_on_hold(self, info: Info, input: PlaceOrderOnHoldInput) -> PlaceOrderOnHoldResult:
        async def change(session: AsyncSession) -> Any:
            order_id = decode_id(input.order_id, expected="Order", field="order_id")
            hold = await holds.place_on_hold(
                session=session,
                order_id=order_id,
                hold_in=HoldIn(
                    reason_category=input.reason_category,
                    details=input.details,
                    estimated_resume_date=input.estimated_resume_date,
                    escalation_date=input.escalation_date,
                    notify_customer=input.notify_customer,
                    notify_partner=input.notify_partner,
                ),
                actor=info.context.actor,
            )
            return hold.order_id, hold

        return await mutate(info, change, lambda result: _order_success(info, result))

    @strawberry.mutation(
        description="Take an order off hold.",
        permission_classes=[CanChangeStatus],
    )
    async def resume_order(self, info: Info, input: ResumeOrderInput) -> ResumeOrderResult:
        async def change(session: AsyncSession) -> Any:
            order_id = decode_id(input.order_id, expected="Order", field="order_id")
            hold = await holds.resume(session=session, order_id=order_id, actor=info.context.actor, reason=input.reason)
            return hold.order_id, hold

        return await mutate(info, change, lambda result: _order_success(info, result))
