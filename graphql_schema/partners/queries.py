"""`partnerIntegrations` (staff), `webhookDeliveries` and `partnerApiCalls` (staff, and a
partner for its own organisation and those below it)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.errors import ValidationFailed
from app.partners import service
from app.partners.service import DeliveryFilter
from app.partners.usage import ApiCallFilter, count_calls, search_calls
from graphql_schema.errors import bad_input
from graphql_schema.node import argument_id, decode_id
from graphql_schema.pagination import After, Before, Connection, First, Last, PageArgs, filtered_connection
from graphql_schema.partners.types import (
    CallOutcomeEnum,
    DeliveryStatusEnum,
    PartnerApiCall,
    PartnerIntegration,
    WebhookDelivery,
)
from graphql_schema.permissions import IsStaff


@strawberry.input
class WebhookDeliveryFilterInput:
    order_id: relay.GlobalID | None = None
    status: list[DeliveryStatusEnum] | None = strawberry.field(default=None, description="Any of these.")  # type: ignore[valid-type]
    organization_id: relay.GlobalID | None = strawberry.field(default=None, description="The partner's organisation.")


def _to_filter(filter_in: WebhookDeliveryFilterInput | None) -> DeliveryFilter:
    if filter_in is None:
        return DeliveryFilter()
    try:
        return DeliveryFilter(
            order_id=decode_id(filter_in.order_id, expected="Order", field="orderId") if filter_in.order_id else None,
            statuses=tuple(filter_in.status or ()),
            organization_id=decode_id(filter_in.organization_id, expected="Contact", field="organizationId")
            if filter_in.organization_id
            else None,
        )
    except ValidationFailed as exc:
        raise bad_input(f"filter.{exc.field}: {exc.message}") from None


@strawberry.input
class PartnerApiCallFilterInput:
    organization_id: relay.GlobalID | None = strawberry.field(default=None, description="The partner's organisation.")
    outcome: list[CallOutcomeEnum] | None = strawberry.field(default=None, description="Any of these.")  # type: ignore[valid-type]
    since: datetime | None = strawberry.field(default=None, description="Calls at or after this moment.")
    until: datetime | None = strawberry.field(default=None, description="Calls before this moment.")


def _to_call_filter(filter_in: PartnerApiCallFilterInput | None) -> ApiCallFilter:
    if filter_in is None:
        return ApiCallFilter()
    return ApiCallFilter(
        organization_id=argument_id(filter_in.organization_id, expected="Contact", field="filter.organizationId"),
        outcomes=tuple(filter_in.outcome or ()),
        since=filter_in.since,
        until=filter_in.until,
    )


@strawberry.type
class PartnerQueries:
    @strawberry.field(permission_classes=[IsStaff], description="Every partner configuration, oldest first.")
    async def partner_integrations(self, info: Info) -> list[PartnerIntegration]:
        async with info.context.db() as session:
            rows = await service.integrations(session=session, viewer=info.context.viewer)
        return [PartnerIntegration.from_row(r) for r in rows]

    @strawberry.field(description="Webhook deliveries the viewer may see (a partner: its own), newest first.")
    async def webhook_deliveries(
        self,
        info: Info,
        filter: WebhookDeliveryFilterInput | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[WebhookDelivery]:
        return await filtered_connection(
            info,
            PageArgs(first, after, last, before),
            _to_filter(filter),
            service.count_deliveries,
            service.search_deliveries,
            WebhookDelivery.from_row,
        )

    @strawberry.field(
        description="Calls made with partner tokens that the viewer may see (a partner: its own), newest first."
    )
    async def partner_api_calls(
        self,
        info: Info,
        filter: PartnerApiCallFilterInput | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[PartnerApiCall]:
        return await filtered_connection(
            info,
            PageArgs(first, after, last, before),
            _to_call_filter(filter),
            count_calls,
            search_calls,
            PartnerApiCall.from_row,
        )
