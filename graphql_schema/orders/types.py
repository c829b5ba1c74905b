"""The Order type: contacts in their roles, channel chain, status, history, holds."""

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

from app.finance.models import InvoiceKind
from app.orders import totals
from app.orders.models import HoldReason
from app.orders.models import LineItem as LineItemModel
from app.orders.models import Order as OrderModel
from app.orders.models import OrderHold as OrderHoldModel
from app.status.models import EntityType
from graphql_schema.business_entities.types import BusinessEntity, business_entity_of
from graphql_schema.catalog.types import Article, load_article
from graphql_schema.commissions.loaders import CommissionsByOrderIdLoader
from graphql_schema.commissions.types import PartnerCommission
from graphql_schema.contacts.types import Contact, contact_of
from graphql_schema.execution import context_only
from graphql_schema.finance.loaders import BillingStateLoader, DocumentsByOrderIdLoader
from graphql_schema.finance.types import BillingStateEnum, Invoice
from graphql_schema.loaders import now_or_later
from graphql_schema.node import register_node
from graphql_schema.orders.loaders import (
    ChannelByOrderIdLoader,
    HoldsByOrderIdLoader,
    LinesByOrderIdLoader,
    OrderByIdLoader,
)
from graphql_schema.rows import from_row
from graphql_schema.status.types import WithStatus

HoldReasonEnum = strawberry.enum(HoldReason, name="HoldReason")

if TYPE_CHECKING:
    from graphql_schema.notifications.types import Communication
    from graphql_schema.operations.types import Document, Quote, Visit, WorkOrder
    from graphql_schema.partners.types import PartnerReference


@strawberry.type(description="One level of the channel chain: position 1 is nearest the order.")
class ChannelEntry:
    position: int
    contact_id: strawberry.Private[UUID]

    @strawberry.field
    @context_only
    def contact(self, info: Info) -> Contact | None:
        return contact_of(info, self.contact_id)  # type: ignore[return-value]


@strawberry.type
class OrderHold:
    id: strawberry.ID
    reason_category: HoldReasonEnum  # type: ignore[valid-type]
    details: str | None
    estimated_resume_date: date | None
    escalation_date: date | None
    notify_customer: bool
    notify_partner: bool
    status_before: str = strawberry.field(description="The status the order returns to on resume.")
    placed_at: datetime
    resumed_at: datetime | None

    @strawberry.field
    @context_only
    def is_active(self) -> bool:
        return self.resumed_at is None

    @classmethod
    def from_model(cls, row: OrderHoldModel) -> Self:
        return from_row(cls, row, id=strawberry.ID(str(row.id)))


@strawberry.type(description="An order line. Amounts in EUR; `netAmount` is rounded half-up to the cent.")
class LineItem:
    id: strawberry.ID
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    vat_rate: Decimal = strawberry.field(description="Percent: 21, 9 or 0.")
    is_commissionable: bool
    net_amount: Decimal
    article_id: strawberry.Private[UUID | None]

    @classmethod
    def from_model(cls, row: LineItemModel) -> Self:
        return from_row(cls, row, id=strawberry.ID(str(row.id)), net_amount=totals.line_net(row))

    @strawberry.field
    @context_only
    async def article(self, info: Info) -> Article | None:
        return await load_article(info, self.article_id)


@strawberry.type(description="VAT for one rate: the rate's net base and the VAT on it.")
class VatAmount:
    rate: Decimal
    base: Decimal
    amount: Decimal


@strawberry.type(description="Totals of an order's lines, EUR, rounded half-up to the cent (see docs/design.md).")
class OrderTotals:
    currency: str
    net: Decimal
    vat: list[VatAmount]
    vat_total: Decimal
    gross: Decimal
    commissionable_net: Decimal

    @classmethod
    def from_totals(cls, value: totals.Totals) -> Self:
        return cls(
            currency="EUR",
            net=value.net,
            vat=[VatAmount(rate=v.rate, base=v.base, amount=v.amount) for v in value.vat],
            vat_total=value.vat_total,
            gross=value.gross,
            commissionable_net=value.commissionable_net,
        )


@strawberry.type(description="An order of one brand, with its contacts, status and history.")
class Order(relay.Node, WithStatus):
    entity_type = EntityType.ORDER

    id: relay.NodeID[str]
    number: str = strawberry.field(description="`CC-2026-00001`: brand, year, sequence.")
    notes: str | None
    created_at: datetime
    updated_at: datetime

    uuid: strawberry.Private[UUID]
    business_entity_id: strawberry.Private[UUID]
    account_contact_id: strawberry.Private[UUID]
    end_customer_contact_id: strawberry.Private[UUID | None]

    @classmethod
    def from_model(cls, model: OrderModel) -> Self:
        return from_row(cls, model, id=str(model.id), uuid=model.id)

    # The fields below resolve at once from what the page prefetched (graphql_schema/orders/
    # prefetch.py), and load through their loader when reached one order at a time.

    @strawberry.field
    @context_only
    def business_entity(self, info: Info) -> BusinessEntity | None:
        return business_entity_of(info, self.business_entity_id)

    @strawberry.field(description="Who the order is for commercially: pricing and access.")
    @context_only
    def account_contact(self, info: Info) -> Contact | None:
        return contact_of(info, self.account_contact_id)  # type: ignore[return-value]

    @strawberry.field(description="The person or household where the charger is installed.")
    @context_only
    def end_customer(self, info: Info) -> Contact | None:
        return contact_of(info, self.end_customer_contact_id)  # type: ignore[return-value]

    @strawberry.field(description="The partners the order came through, in position order.")
    @context_only
    def channel_chain(self, info: Info) -> list[ChannelEntry]:
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(ChannelByOrderIdLoader),
            self.uuid,
            lambda rows: [ChannelEntry(position=row.position, contact_id=row.contact_id) for row in rows],
        )

    @strawberry.field(description="Lines in the order they were added.")
    @context_only
    def lines(self, info: Info) -> list[LineItem]:
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(LinesByOrderIdLoader),
            self.uuid,
            lambda rows: [LineItem.from_model(r) for r in rows],
        )

    @strawberry.field
    @context_only
    def totals(self, info: Info) -> OrderTotals:
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(LinesByOrderIdLoader),
            self.uuid,
            lambda rows: OrderTotals.from_totals(totals.compute(rows)),
        )

    @strawberry.field(description="The commissions this viewer may see, by level.")
    @context_only
    def commissions(self, info: Info) -> list[PartnerCommission]:
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(CommissionsByOrderIdLoader),
            self.uuid,
            lambda rows: [PartnerCommission.from_model(r) for r in rows],
        )

    @strawberry.field(description="Its invoices, oldest first (each with the credit notes that correct it).")
    @context_only
    def invoices(self, info: Info) -> list[Invoice]:
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(DocumentsByOrderIdLoader),
            self.uuid,
            lambda rows: [Invoice.from_row(r) for r in rows if r.kind is InvoiceKind.INVOICE],
        )

    @strawberry.field(description="How far its lines are billed, and whether what was billed is paid.")
    @context_only
    def billing_state(self, info: Info) -> BillingStateEnum:  # type: ignore[valid-type]
        return now_or_later(info.context.loaders.get(BillingStateLoader), self.uuid, lambda state: state)

    @strawberry.field(description="The partner's references, when a partner sent the order (createOrderFromPartner).")
    @context_only
    def partner_reference(
        self, info: Info
    ) -> Annotated[PartnerReference, strawberry.lazy("graphql_schema.partners.types")] | None:
        from graphql_schema.partners.loaders import PartnerReferenceLoader
        from graphql_schema.partners.types import PartnerReference

        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(PartnerReferenceLoader),
            self.uuid,
            lambda row: PartnerReference.from_row(row) if row is not None else None,
        )

    @strawberry.field(description="What was told about the order (the viewer's part of it), oldest first.")
    @context_only
    def communications(
        self, info: Info
    ) -> list[Annotated[Communication, strawberry.lazy("graphql_schema.notifications.types")]]:
        from graphql_schema.notifications.loaders import CommunicationsByOrderLoader
        from graphql_schema.notifications.types import communications_of

        return communications_of(info, CommunicationsByOrderLoader, self.uuid)

    @strawberry.field(description="The quote accepted into it, with its earlier revisions (by revision).")
    @context_only
    def quotes(self, info: Info) -> list[Annotated[Quote, strawberry.lazy("graphql_schema.operations.types")]]:
        from graphql_schema.operations.loaders import QuotesByOrderLoader
        from graphql_schema.operations.types import Quote, many

        return many(info, QuotesByOrderLoader, self.uuid, Quote.from_row)

    @strawberry.field(description="Its visits, by start time.")
    @context_only
    def visits(self, info: Info) -> list[Annotated[Visit, strawberry.lazy("graphql_schema.operations.types")]]:
        from graphql_schema.operations.loaders import VisitsByOrderLoader
        from graphql_schema.operations.types import Visit, many

        return many(info, VisitsByOrderLoader, self.uuid, Visit.from_row)

    @strawberry.field(description="Its work orders, oldest first.")
    @context_only
    def work_orders(self, info: Info) -> list[Annotated[WorkOrder, strawberry.lazy("graphql_schema.operations.types")]]:
        from graphql_schema.operations.loaders import WorkOrdersByOrderLoader
        from graphql_schema.operations.types import WorkOrder, many

        return many(info, WorkOrdersByOrderLoader, self.uuid, WorkOrder.from_row)

    @strawberry.field(description="Documents and photos attached to the order itself, oldest first.")
    @context_only
    def documents(self, info: Info) -> list[Annotated[Document, strawberry.lazy("graphql_schema.operations.types")]]:
        from graphql_schema.operations.types import documents_of

        return documents_of(info, "order_id", self.uuid)

    @strawberry.field(description="Holds, newest first.")
    @context_only
    def holds(self, info: Info) -> list[OrderHold]:
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(HoldsByOrderIdLoader),
            self.uuid,
            lambda rows: [OrderHold.from_model(r) for r in rows],
        )


async def load_order(info: Info, order_id: uuid.UUID | None) -> Order | None:
    if order_id is None:
        return None
    model = await info.context.loaders.get(OrderByIdLoader).load(order_id)
    return Order.from_model(model) if model is not None else None


async def _load_nodes(info: Info, ids: Sequence[uuid.UUID]) -> list[Order | None]:
    models = await info.context.loaders.get(OrderByIdLoader).load_many(ids)
    return [Order.from_model(m) if m is not None else None for m in models]


register_node("Order", _load_nodes)
