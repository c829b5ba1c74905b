"""`notificationEvents`, `notificationTemplates`, `previewNotification` (staff) and
`communications` (staff; a partner or customer: what the visibility policy lets it see)."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.errors import DomainError
from app.notifications import service, templates
from app.notifications.service import CommunicationFilter
from graphql_schema.errors import bad_input
from graphql_schema.node import argument_id, decode_id
from graphql_schema.notifications.types import (
    Communication,
    CommunicationStatusEnum,
    NotificationEvent,
    NotificationTemplate,
    NotificationVariable,
    RenderedNotification,
)
from graphql_schema.pagination import After, Before, Connection, First, Last, PageArgs, filtered_connection
from graphql_schema.permissions import IsStaff


@strawberry.input
class CommunicationFilterInput:
    order_id: relay.GlobalID | None = None
    contact_id: relay.GlobalID | None = strawberry.field(default=None, description="The recipient.")
    status: list[CommunicationStatusEnum] | None = strawberry.field(default=None, description="Any of these.")  # type: ignore[valid-type]


def _to_filter(filter_in: CommunicationFilterInput | None) -> CommunicationFilter:
    if filter_in is None:
        return CommunicationFilter()
    return CommunicationFilter(
        order_id=argument_id(filter_in.order_id, expected="Order", field="filter.orderId"),
        contact_id=argument_id(filter_in.contact_id, expected="Contact", field="filter.contactId"),
        statuses=tuple(filter_in.status or ()),
    )


@strawberry.type
class NotificationQueries:
    @strawberry.field(
        permission_classes=[IsStaff], description="The events templates are written for, with their variables."
    )
    def notification_events(self) -> list[NotificationEvent]:
        return [
            NotificationEvent(
                event=f"{templates.STATUS_PREFIX}<status>" if name == "order.status" else name,
                description=kind.description,
                variables=[NotificationVariable(name=k, description=v) for k, v in kind.variables.items()],
            )
            for name, kind in templates.EVENTS.items()
        ]

    @strawberry.field(
        permission_classes=[IsStaff],
        description="The templates (the latest version of each unless allVersions), by brand, event and language.",
    )
    async def notification_templates(
        self, info: Info, business_entity_id: relay.GlobalID | None = None, all_versions: bool = False
    ) -> list[NotificationTemplate]:
        brand = argument_id(business_entity_id, expected="BusinessEntity", field="businessEntityId")
        async with info.context.db() as session:
            rows = await service.list_templates(
                session=session, viewer=info.context.viewer, business_entity_id=brand, all_versions=all_versions
            )
        return [NotificationTemplate.from_row(r) for r in rows]

    @strawberry.field(
        permission_classes=[IsStaff],
        description="A template rendered for an order, as its end customer would get it. Nothing is sent.",
    )
    async def preview_notification(
        self, info: Info, template_id: relay.GlobalID, order_id: relay.GlobalID
    ) -> RenderedNotification:
        try:
            async with info.context.db() as session:
                rendered, variables = await service.preview(
                    session=session,
                    template_id=decode_id(template_id, expected="NotificationTemplate", field="templateId"),
                    order_id=decode_id(order_id, expected="Order", field="orderId"),
                )
        except DomainError as exc:
            raise bad_input(exc.message) from None
        return RenderedNotification(
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            variables=variables,  # type: ignore[arg-type]  # JSON is Strawberry's scalar alias, not a type
        )

    @strawberry.field(description="Messages told about orders that the viewer may see, newest first.")
    async def communications(
        self,
        info: Info,
        filter: CommunicationFilterInput | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Communication]:
        return await filtered_connection(
            info,
            PageArgs(first, after, last, before),
            _to_filter(filter),
            service.count_communications,
            service.search_communications,
            Communication.from_row,
        )
