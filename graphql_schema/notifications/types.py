"""Notification templates, the events they are for, and the communication log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.notifications.models import CommunicationStatus
from graphql_schema.execution import context_only
from graphql_schema.loaders import now_or_later
from graphql_schema.node import global_id, register_node
from graphql_schema.notifications.loaders import TemplateByIdLoader
from graphql_schema.rows import from_row

if TYPE_CHECKING:
    from graphql_schema.contacts.types import Contact
    from graphql_schema.orders.types import Order

CommunicationStatusEnum = strawberry.enum(
    CommunicationStatus,
    name="CommunicationStatus",
    description=(
        "QUEUED (waiting for an attempt or its retry), SENDING, SENT, FAILED (every attempt failed), "
        "BOUNCED (the recipient was refused for good), SUPPRESSED (not sent: `reason` says why)."
    ),
)


@strawberry.type(description="One version of a brand's template for an event, a language and a channel.")
class NotificationTemplate(relay.Node):
    id: relay.NodeID[str]
    event: str = strawberry.field(description="`order.status:<status>`, `order.hold_placed`, `order.hold_resumed`.")
    language: str
    channel: str
    version: int = strawberry.field(description="1 for the first save; each save makes the next.")
    subject: str
    body_text: str
    body_html: str | None
    created_at: datetime

    uuid: strawberry.Private[UUID]
    business_entity_uuid: strawberry.Private[UUID]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row, id=str(row.id), uuid=row.id, business_entity_uuid=row.business_entity_id)

    @strawberry.field(description="The brand (global id).")
    @context_only
    def business_entity_id(self) -> strawberry.ID:
        return strawberry.ID(global_id("BusinessEntity", self.business_entity_uuid))


@strawberry.type
class NotificationVariable:
    name: str
    description: str


@strawberry.type(description="An event a template can be written for, and the variables it offers.")
class NotificationEvent:
    event: str
    description: str
    variables: list[NotificationVariable]


@strawberry.type(description="A template rendered for an order, as its end customer would get it; nothing is sent.")
class RenderedNotification:
    subject: str
    body_text: str
    body_html: str | None
    variables: strawberry.scalars.JSON = strawberry.field(description="The values the template was given.")


@strawberry.type(description="A message told (or deliberately not told) about an order.")
class Communication:
    id: strawberry.ID
    event: str
    audience: str = strawberry.field(description="end_customer, account, channel or staff.")
    recipient_address: str | None
    channel: str
    language: str
    template_version: int | None
    subject: str | None
    body_text: str | None
    status: CommunicationStatusEnum  # type: ignore[valid-type]
    reason: str | None = strawberry.field(description="Why it was not sent (SUPPRESSED).")
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    provider_message_id: str | None = strawberry.field(description="The e-mail's Message-ID.")
    created_at: datetime
    sent_at: datetime | None

    order_uuid: strawberry.Private[UUID | None]
    contact_uuid: strawberry.Private[UUID | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(
            cls,
            row,
            id=strawberry.ID(str(row.id)),
            status=CommunicationStatus(row.status),
            order_uuid=row.order_id,
            contact_uuid=row.recipient_contact_id,
        )

    @strawberry.field
    @context_only
    async def order(self, info: Info) -> Annotated[Order, strawberry.lazy("graphql_schema.orders.types")] | None:
        from graphql_schema.orders.types import load_order

        return await load_order(info, self.order_uuid)

    @strawberry.field(description="The contact it was for (null for staff and for what the viewer may not see).")
    @context_only
    async def recipient(
        self, info: Info
    ) -> Annotated[Contact, strawberry.lazy("graphql_schema.contacts.types")] | None:
        from graphql_schema.contacts.types import load_contact

        return await load_contact(info, self.contact_uuid)


def communications_of(info: Info, loader: type, key: uuid.UUID) -> Any:
    """The communications of an order or a contact, oldest first, through its loader."""
    return now_or_later(info.context.loaders.get(loader), key, lambda rows: [Communication.from_row(r) for r in rows])


async def _templates(info: Info, ids: Sequence[uuid.UUID]) -> list[NotificationTemplate | None]:
    rows = await info.context.loaders.get(TemplateByIdLoader).load_many(ids)
    return [NotificationTemplate.from_row(r) if r is not None else None for r in rows]


register_node("NotificationTemplate", _templates)
