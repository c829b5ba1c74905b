"""Partner configurations (staff), `createOrderFromPartner` (a partner's token), `redeliverWebhook`
(staff)."""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.types import Info

from app.errors import ValidationFailed
from app.partners import intake, service, webhooks
from app.partners.intake import CustomerIn, PartnerLineIn, PartnerOrderIn
from app.partners.service import IntegrationIn
from graphql_schema.contacts.types import Contact, load_contact
from graphql_schema.errors import NotFoundError, PermissionDeniedError, ValidationError, mutate
from graphql_schema.inputs import keep_or, line_field, text_field
from graphql_schema.node import decode_id, global_id
from graphql_schema.orders.types import Order, load_order
from graphql_schema.partners.errors import (
    AlreadyConfigured,
    IdempotencyConflict,
    PartnerInactive,
    PartnerNotConfigured,
    UnknownProductCodes,
)
from graphql_schema.partners.types import PartnerIntegration, WebhookDelivery, load_delivery, load_integration
from graphql_schema.permissions import IsPartner, IsStaff


@strawberry.input
class StatusMappingInput:
    status: str = line_field(50, "Our status name.")
    partner_status: str = line_field(100, "The partner's name for it.")


@strawberry.input
class ProductCodeInput:
    code: str = line_field(64, "The partner's product code.")
    article_id: relay.GlobalID


@strawberry.input(description="A partner organisation's integration.")
class CreatePartnerIntegrationInput:
    organization_id: relay.GlobalID
    business_entity_id: relay.GlobalID = strawberry.field(description="The brand its orders are for.")
    active: bool = True
    test_mode: bool = False
    webhook_url: str | None = line_field(500, "Where its webhooks go (http or https).", default=None)
    events: list[str] = strawberry.field(default_factory=list, description="Event types it is sent.")
    status_mapping: list[StatusMappingInput] = strawberry.field(default_factory=list)
    products: list[ProductCodeInput] = strawberry.field(default_factory=list)
    rate_limit_per_minute: int = 120


@strawberry.input(description="What to change; a field left out stays as it is.")
class UpdatePartnerIntegrationInput:
    id: relay.GlobalID
    business_entity_id: relay.GlobalID | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
    test_mode: bool | None = strawberry.UNSET
    webhook_url: str | None = line_field(500, "Null removes the endpoint.", default=strawberry.UNSET)
    events: list[str] | None = strawberry.UNSET
    status_mapping: list[StatusMappingInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the whole mapping."
    )
    products: list[ProductCodeInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces every product code."
    )
    rate_limit_per_minute: int | None = strawberry.UNSET


@strawberry.input
class PartnerCustomerInput:
    name: str = line_field(200)
    email: str | None = line_field(254, default=None)
    phone: str | None = line_field(50, default=None)
    street: str | None = line_field(200, default=None)
    house_number: str | None = line_field(20, default=None)
    postal_code: str | None = line_field(10, default=None)
    city: str | None = line_field(100, default=None)
    country_code: str | None = line_field(2, "ISO 3166 alpha-2.", default=None)


@strawberry.input
class PartnerOrderLineInput:
    product_code: str = line_field(64, "The partner's product code (its configured mapping names our article).")
    quantity: Decimal


@strawberry.input(description="An order in the partner's own terms; the same reference again is a replay.")
class CreateOrderFromPartnerInput:
    partner_order_reference: str = line_field(100, "The partner's own order id: the idempotency key.")
    customer: PartnerCustomerInput = strawberry.field(
        description="Found among the partner's own customers by e-mail, else postcode and house number; else created."
    )
    lines: list[PartnerOrderLineInput]
    po_number: str | None = line_field(100, default=None)
    dealer_code: str | None = line_field(100, default=None)
    notes: str | None = text_field(5000, default=None)


@strawberry.type(description="A configuration and its signing secret: shown this once, store it now.")
class PartnerIntegrationWithSecret:
    integration: PartnerIntegration
    signing_secret: str


@strawberry.type
class PartnerIntegrationSuccess:
    integration: PartnerIntegration


@strawberry.type(description="The order made, or (a replay) the one the same reference and content made before.")
class PartnerOrderAccepted:
    order: Order
    replayed: bool
    customer_created: bool


@strawberry.type(description="One line as it would be ordered.")
class PlannedOrderLine:
    product_code: str
    article_id: strawberry.ID
    description: str
    quantity: Decimal
    unit_price: Decimal


@strawberry.type(description="Test mode: what the order would be. Nothing was created.")
class PartnerOrderPreview:
    customer: Contact | None = strawberry.field(description="The customer it would be for; null: a new one.")
    channel: list[Contact] = strawberry.field(description="The channel chain: the partner, then its upline.")
    lines: list[PlannedOrderLine]
    replay_of: Order | None = strawberry.field(description="The order this reference made before, if any.")


@strawberry.type
class WebhookDeliverySuccess:
    delivery: WebhookDelivery


CreatePartnerIntegrationResult = Annotated[
    PartnerIntegrationWithSecret | AlreadyConfigured | NotFoundError | ValidationError,
    strawberry.union("CreatePartnerIntegrationResult"),
]
UpdatePartnerIntegrationResult = Annotated[
    PartnerIntegrationSuccess | NotFoundError | ValidationError, strawberry.union("UpdatePartnerIntegrationResult")
]
RotateSigningSecretResult = Annotated[
    PartnerIntegrationWithSecret | NotFoundError | ValidationError, strawberry.union("RotateSigningSecretResult")
]
CreateOrderFromPartnerResult = Annotated[
    PartnerOrderAccepted
    | PartnerOrderPreview
    | IdempotencyConflict
    | UnknownProductCodes
    | PartnerNotConfigured
    | PartnerInactive
    | ValidationError
    | PermissionDeniedError,
    strawberry.union("CreateOrderFromPartnerResult"),
]
RedeliverWebhookResult = Annotated[
    WebhookDeliverySuccess | NotFoundError | ValidationError, strawberry.union("RedeliverWebhookResult")
]


def _mapping(entries: list[StatusMappingInput]) -> dict[str, str]:
    return {e.status: e.partner_status for e in entries}


def _products(entries: list[ProductCodeInput]) -> dict[str, uuid.UUID]:
    return {e.code: decode_id(e.article_id, expected="Article", field="products") for e in entries}


def _optional(value: Any) -> Any:
    """A field the service needs a value for: null is refused like any bad value."""
    if value is None:
        raise ValidationFailed("This field takes a value (leave it out to keep it).")
    return value


async def _integration_answer(info: Info, result: tuple[uuid.UUID, str | None]) -> Any:
    integration_id, secret = result
    integration = await load_integration(info, integration_id)
    assert integration is not None, "staff see every configuration"
    if secret is None:
        return PartnerIntegrationSuccess(integration=integration)
    return PartnerIntegrationWithSecret(integration=integration, signing_secret=secret)


async def _intake_answer(info: Info, result: intake.Intake) -> Any:
    channel = [c for c in [await load_contact(info, cid) for cid in result.channel_contact_ids] if c is not None]
    if result.test_mode:
        return PartnerOrderPreview(
            customer=await load_contact(info, result.customer_id),
            channel=channel,
            replay_of=await load_order(info, result.order_id),
            lines=[
                PlannedOrderLine(
                    product_code=line.product_code,
                    article_id=strawberry.ID(global_id("Article", line.article_id)),
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                )
                for line in result.lines
            ],
        )
    order = await load_order(info, result.order_id)
    assert order is not None, "a partner sees the orders its organisation is in the chain of"
    return PartnerOrderAccepted(order=order, replayed=result.replayed, customer_created=result.customer_created)


@strawberry.type
class PartnerMutations:
    @strawberry.mutation(
        permission_classes=[IsStaff],
        description="Configure a partner organisation; the answer holds its webhook signing secret, shown once.",
    )
    async def create_partner_integration(
        self, info: Info, input: CreatePartnerIntegrationInput
    ) -> CreatePartnerIntegrationResult:
        async def change(session: AsyncSession) -> Any:
            integration, secret = await service.create_integration(
                session=session,
                organization_id=decode_id(input.organization_id, expected="Contact", field="organization_id"),
                integration_in=IntegrationIn(
                    business_entity_id=decode_id(
                        input.business_entity_id, expected="BusinessEntity", field="business_entity_id"
                    ),
                    active=input.active,
                    test_mode=input.test_mode,
                    webhook_url=input.webhook_url,
                    events=input.events,
                    status_mapping=_mapping(input.status_mapping),
                    products=_products(input.products),
                    rate_limit_per_minute=input.rate_limit_per_minute,
                ),
                actor=info.context.actor,
            )
            return integration.id, secret

        return await mutate(info, change, lambda result: _integration_answer(info, result))

    @strawberry.mutation(permission_classes=[IsStaff], description="Change a partner's configuration.")
    async def update_partner_integration(
        self, info: Info, input: UpdatePartnerIntegrationInput
    ) -> UpdatePartnerIntegrationResult:
        async def change(session: AsyncSession) -> Any:
            changes = IntegrationIn(
                business_entity_id=keep_or(
                    input.business_entity_id,
                    lambda v: decode_id(_optional(v), expected="BusinessEntity", field="business_entity_id"),
                ),
                active=keep_or(input.active, _optional),
                test_mode=keep_or(input.test_mode, _optional),
                webhook_url=keep_or(input.webhook_url),
                events=keep_or(input.events, lambda v: _optional(v)),
                status_mapping=keep_or(input.status_mapping, lambda v: _mapping(_optional(v))),
                products=keep_or(input.products, lambda v: _products(_optional(v))),
                rate_limit_per_minute=keep_or(input.rate_limit_per_minute, _optional),
            )
            integration = await service.update_integration(
                session=session,
                integration_id=decode_id(input.id, expected="PartnerIntegration", field="id"),
                changes=changes,
                actor=info.context.actor,
            )
            return integration.id, None

        return await mutate(info, change, lambda result: _integration_answer(info, result))

    @strawberry.mutation(
        permission_classes=[IsStaff],
        description="A new webhook signing secret, shown once; the old one signs nothing from now on.",
    )
    async def rotate_partner_signing_secret(self, info: Info, id: relay.GlobalID) -> RotateSigningSecretResult:
        async def change(session: AsyncSession) -> Any:
            integration, secret = await service.rotate_secret(
                session=session,
                integration_id=decode_id(id, expected="PartnerIntegration", field="id"),
                actor=info.context.actor,
            )
            return integration.id, secret

        return await mutate(info, change, lambda result: _integration_answer(info, result))

    @strawberry.mutation(
        permission_classes=[IsPartner],
        description=(
            "A partner's order, under its own reference: the same reference and content again return the same "
            "order; other content under it is an IdempotencyConflict. In test mode nothing is created."
        ),
    )
    async def create_order_from_partner(
        self, info: Info, input: CreateOrderFromPartnerInput
    ) -> CreateOrderFromPartnerResult:
        async def change(session: AsyncSession) -> Any:
            customer = input.customer
            return await intake.intake(
                session=session,
                order_in=PartnerOrderIn(
                    partner_order_reference=input.partner_order_reference,
                    po_number=input.po_number,
                    dealer_code=input.dealer_code,
                    notes=input.notes,
                    customer=CustomerIn(**{f.name: getattr(customer, f.name) for f in dataclasses.fields(CustomerIn)}),
                    lines=[
                        PartnerLineIn(product_code=line.product_code, quantity=line.quantity) for line in input.lines
                    ],
                ),
                actor=info.context.actor,
                viewer=info.context.viewer,
            )

        return await mutate(info, change, lambda result: _intake_answer(info, result))

    @strawberry.mutation(
        permission_classes=[IsStaff],
        description="Send a webhook again now, with a fresh set of attempts (same event id and body).",
    )
    async def redeliver_webhook(self, info: Info, id: relay.GlobalID) -> RedeliverWebhookResult:
        async def change(session: AsyncSession) -> Any:
            delivery = await webhooks.redeliver(
                session=session,
                delivery_id=decode_id(id, expected="WebhookDelivery", field="id"),
                actor=info.context.actor,
            )
            return delivery.id

        async def answer(delivery_id: uuid.UUID) -> WebhookDeliverySuccess:
            delivery = await load_delivery(info, delivery_id)
            assert delivery is not None, "staff see every delivery"
            return WebhookDeliverySuccess(delivery=delivery)

        return await mutate(info, change, answer)
