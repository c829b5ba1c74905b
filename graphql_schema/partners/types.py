"""Partner configurations, an order's partner references, webhook deliveries and attempts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from app.partners.models import DeliveryStatus
from app.partners.usage import CallOutcome
from graphql_schema.execution import context_only
from graphql_schema.loaders import now_or_later
from graphql_schema.node import global_id, register_node
from graphql_schema.partners.loaders import (
    AttemptsByDeliveryLoader,
    DeliveryByIdLoader,
    IntegrationByIdLoader,
    ProductsByIntegrationLoader,
)
from graphql_schema.rows import from_row

if TYPE_CHECKING:
    from graphql_schema.contacts.types import Contact
    from graphql_schema.orders.types import Order

DeliveryStatusEnum = strawberry.enum(
    DeliveryStatus,
    name="WebhookDeliveryStatus",
    description="Waiting for an attempt, being attempted, delivered, or dead-lettered after its last attempt.",
)

CallOutcomeEnum = strawberry.enum(
    CallOutcome,
    name="PartnerApiCallOutcome",
    description=(
        "OK: answered without errors (a mutation's typed refusal is an answer); ERRORS: answered with "
        "GraphQL errors; RATE_LIMITED: refused for the rate limit; REFUSED: a malformed request; FAILED: "
        "the server could not answer."
    ),
)


@strawberry.type(description="One request a partner's token made: what it asked, how it ended, how long it took.")
class PartnerApiCall:
    request_id: str | None = strawberry.field(description="The response's `X-Request-Id`.")
    operation: str | None = strawberry.field(
        description="Each operation's type, name (when given) and root fields: `mutation createOrderFromPartner`."
    )
    outcome: CallOutcomeEnum  # type: ignore[valid-type]
    status_code: int = strawberry.field(description="The HTTP status of the answer.")
    duration_ms: int
    at: datetime

    organization_uuid: strawberry.Private[UUID]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row, outcome=CallOutcome(row.outcome), organization_uuid=row.organization_id)

    @strawberry.field(description="The partner organisation the call counted for.")
    @context_only
    async def organization(
        self, info: Info
    ) -> Annotated[Contact, strawberry.lazy("graphql_schema.contacts.types")] | None:
        from graphql_schema.contacts.types import load_contact

        return await load_contact(info, self.organization_uuid)


@strawberry.type(description="One of the partner's product codes and the article it orders.")
class PartnerProductCode:
    code: str
    article_id: strawberry.ID = strawberry.field(description="The article's global id.")


@strawberry.type(description="Our status name and the partner's name for it.")
class StatusMappingEntry:
    status: str
    partner_status: str


@strawberry.type(
    description=(
        "How a partner organisation integrates: the brand it orders for, its product codes, what its "
        "webhooks say and where they go. The signing secret is shown once, when it is made."
    )
)
class PartnerIntegration(relay.Node):
    id: relay.NodeID[str]
    active: bool
    test_mode: bool = strawberry.field(description="Intake validates and says what it would do; creates nothing.")
    webhook_url: str | None
    events: list[str] = strawberry.field(description="The event types it is sent (`order.status_changed`, …).")
    rate_limit_per_minute: int = strawberry.field(description="API calls a minute, across every API process.")
    created_at: datetime
    updated_at: datetime

    uuid: strawberry.Private[UUID]
    organization_id: strawberry.Private[UUID]
    business_entity_uuid: strawberry.Private[UUID]
    mapping: strawberry.Private[dict[str, str]]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(
            cls,
            row,
            id=str(row.id),
            uuid=row.id,
            business_entity_uuid=row.business_entity_id,
            mapping=row.status_mapping,
        )

    @strawberry.field(description="The partner organisation.")
    @context_only
    async def organization(
        self, info: Info
    ) -> Annotated[Contact, strawberry.lazy("graphql_schema.contacts.types")] | None:
        from graphql_schema.contacts.types import load_contact

        return await load_contact(info, self.organization_id)

    @strawberry.field(description="The brand its orders are for (global id).")
    @context_only
    def business_entity_id(self) -> strawberry.ID:
        return strawberry.ID(global_id("BusinessEntity", self.business_entity_uuid))

    @strawberry.field(description="Our status names and theirs; a status not listed is sent under our name.")
    @context_only
    def status_mapping(self) -> list[StatusMappingEntry]:
        return [StatusMappingEntry(status=k, partner_status=v) for k, v in sorted(self.mapping.items())]

    @strawberry.field
    @context_only
    def products(self, info: Info) -> list[PartnerProductCode]:
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(ProductsByIntegrationLoader),
            self.uuid,
            lambda rows: [
                PartnerProductCode(code=r.partner_code, article_id=strawberry.ID(global_id("Article", r.article_id)))
                for r in rows
            ],
        )


@strawberry.type(description="The partner's own references to an order it sent, and how its status sync stands.")
class PartnerReference:
    partner_order_reference: str = strawberry.field(description="The partner's order id (idempotency key).")
    po_number: str | None
    dealer_code: str | None
    last_known_status: str | None = strawberry.field(
        description="The partner's name of the last status a webhook delivered."
    )
    last_sync_error: str | None = strawberry.field(
        description="Why the last webhook attempt failed, until one succeeds."
    )
    last_synced_at: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row, partner_order_reference=row.partner_reference)


@strawberry.type(description="One attempt to deliver a webhook.")
class WebhookAttempt:
    attempt: int
    started_at: datetime
    finished_at: datetime | None = strawberry.field(description="Null while under way.")
    duration_ms: int | None
    status_code: int | None = strawberry.field(description="The HTTP status the endpoint answered, if it answered.")
    error: str | None
    response_excerpt: str | None = strawberry.field(description="The first 500 characters of the answer.")

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row)


@strawberry.type(description="One event sent to one partner's webhook endpoint, with every attempt.")
class WebhookDelivery(relay.Node):
    id: relay.NodeID[str]
    event_id: strawberry.ID = strawberry.field(description="The same on every attempt: receivers deduplicate by it.")
    event_type: str
    status: DeliveryStatusEnum  # type: ignore[valid-type]
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None
    created_at: datetime
    body: JSON = strawberry.field(description="What is sent (signed; the same on every attempt).")

    uuid: strawberry.Private[UUID]
    order_id: strawberry.Private[UUID | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row, id=str(row.id), uuid=row.id, event_id=strawberry.ID(str(row.event_id)))

    @strawberry.field
    @context_only
    async def order(self, info: Info) -> Annotated[Order, strawberry.lazy("graphql_schema.orders.types")] | None:
        from graphql_schema.orders.types import load_order

        return await load_order(info, self.order_id)

    @strawberry.field(description="Every attempt, the first first.")
    @context_only
    def attempt_log(self, info: Info) -> list[WebhookAttempt]:
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(AttemptsByDeliveryLoader),
            self.uuid,
            lambda rows: [WebhookAttempt.from_row(r) for r in rows],
        )


async def load_integration(info: Info, integration_id: uuid.UUID) -> PartnerIntegration | None:
    row = await info.context.loaders.get(IntegrationByIdLoader).load(integration_id)
    return PartnerIntegration.from_row(row) if row is not None else None


async def load_delivery(info: Info, delivery_id: uuid.UUID) -> WebhookDelivery | None:
    row = await info.context.loaders.get(DeliveryByIdLoader).load(delivery_id)
    return WebhookDelivery.from_row(row) if row is not None else None


async def _integrations(info: Info, ids: Sequence[uuid.UUID]) -> list[PartnerIntegration | None]:
    rows = await info.context.loaders.get(IntegrationByIdLoader).load_many(ids)
    return [PartnerIntegration.from_row(r) if r is not None else None for r in rows]


async def _deliveries(info: Info, ids: Sequence[uuid.UUID]) -> list[WebhookDelivery | None]:
    rows = await info.context.loaders.get(DeliveryByIdLoader).load_many(ids)
    return [WebhookDelivery.from_row(r) if r is not None else None for r in rows]


register_node("PartnerIntegration", _integrations)
register_node("WebhookDelivery", _deliveries)
