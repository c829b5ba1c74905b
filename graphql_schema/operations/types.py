"""Field operations in the schema: quotes, visits (installers, site survey), installer teams,
work orders (checklist, installation record, seals, extra work) and documents. Every relation
resolves through a loader of graphql_schema/operations/loaders.py, at once when an order page
prefetched it (graphql_schema/orders/prefetch.py)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Self, TypeVar

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.operations.documents import DOCUMENT_ROUTE
from app.operations.models import DocumentCategory, MeterCabinet, Mounting, SealAction, VisitType, WorkOrderKind
from app.orders import totals
from app.status.models import EntityType
from graphql_schema.business_entities.types import BusinessEntity, business_entity_of
from graphql_schema.contacts.types import Contact, contact_of
from graphql_schema.execution import context_only
from graphql_schema.loaders import ContextLoader, now_or_later
from graphql_schema.node import register_node
from graphql_schema.operations import loaders
from graphql_schema.orders.types import ChannelEntry, LineItem, OrderTotals
from graphql_schema.rows import from_row
from graphql_schema.status.types import WithStatus

if TYPE_CHECKING:
    from graphql_schema.orders.types import Order

T = TypeVar("T")

VisitTypeEnum = strawberry.enum(VisitType, name="VisitType")
WorkOrderKindEnum = strawberry.enum(WorkOrderKind, name="WorkOrderKind")
MeterCabinetEnum = strawberry.enum(MeterCabinet, name="MeterCabinet", description="The meter cabinet as found.")
MountingEnum = strawberry.enum(Mounting, name="Mounting", description="Where the charger is mounted.")
SealActionEnum = strawberry.enum(SealAction, name="SealAction")
DocumentCategoryEnum = strawberry.enum(DocumentCategory, name="DocumentCategory")


def many(info: Info, loader: type[ContextLoader[Any, Any]], key: Any, convert: Callable[[Any], T]) -> list[T]:
    """The converted rows a loader holds for `key` (at once when prefetched)."""
    return now_or_later(  # type: ignore[return-value]
        info.context.loaders.get(loader), key, lambda rows: [convert(row) for row in rows]
    )


def one(info: Info, loader: type[ContextLoader[Any, Any]], key: Any, convert: Callable[[Any], T]) -> T | None:
    if key is None:
        return None
    return now_or_later(  # type: ignore[return-value]
        info.context.loaders.get(loader), key, lambda row: convert(row) if row is not None else None
    )


def _order(info: Info, order_id: uuid.UUID | None) -> Any:
    from graphql_schema.orders.types import load_order

    return load_order(info, order_id)


OrderRef = Annotated["Order", strawberry.lazy("graphql_schema.orders.types")]


@strawberry.type(description="A stored file: download it from `url` with the same token.")
class Document(relay.Node):
    id: relay.NodeID[str]
    file_name: str
    content_type: str = strawberry.field(description="Judged from the content when it was uploaded.")
    size_bytes: int
    sha256: str
    category: DocumentCategoryEnum  # type: ignore[valid-type]
    tags: list[str]
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row, id=str(row.id), category=DocumentCategory(row.category))

    @strawberry.field(description="Where to download it (GET, with the Authorization header).")
    def url(self) -> str:
        return DOCUMENT_ROUTE.format(document_id=self.id)


def documents_of(info: Info, column: str, parent_id: uuid.UUID) -> list[Document]:
    return many(info, loaders.DOCUMENTS_OF[column], parent_id, Document.from_row)


@strawberry.type(description="A line of a quote (what the order will have, once accepted).")
class QuoteLine:
    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    vat_rate: Decimal
    is_commissionable: bool

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row)

    @strawberry.field(description="Quantity × unit price less the discount, rounded to the cent.")
    def net_amount(self) -> Decimal:
        return totals.line_net(self)


@strawberry.type(description="A quote (one revision): parties, lines, validity, status through the engine.")
class Quote(relay.Node, WithStatus):
    entity_type = EntityType.QUOTE

    id: relay.NodeID[str]
    number: str = strawberry.field(description="`CC-Q-2026-00001`; revisions keep the number.")
    revision: int
    valid_until: date
    notes: str | None
    created_at: datetime

    business_entity_id: strawberry.Private[uuid.UUID]
    account_contact_id: strawberry.Private[uuid.UUID]
    end_customer_contact_id: strawberry.Private[uuid.UUID | None]
    series_id: strawberry.Private[uuid.UUID]
    order_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row, id=str(row.id), uuid=row.id)

    @strawberry.field
    @context_only
    def business_entity(self, info: Info) -> BusinessEntity | None:
        return business_entity_of(info, self.business_entity_id)

    @strawberry.field
    @context_only
    def account_contact(self, info: Info) -> Contact | None:
        return contact_of(info, self.account_contact_id)  # type: ignore[return-value]

    @strawberry.field
    @context_only
    def end_customer(self, info: Info) -> Contact | None:
        return contact_of(info, self.end_customer_contact_id)  # type: ignore[return-value]

    @strawberry.field
    @context_only
    def channel_chain(self, info: Info) -> list[ChannelEntry]:
        return many(
            info,
            loaders.QuoteChannelLoader,
            self.uuid,
            lambda r: ChannelEntry(position=r.position, contact_id=r.contact_id),
        )

    @strawberry.field
    @context_only
    def lines(self, info: Info) -> list[QuoteLine]:
        return many(info, loaders.QuoteLinesLoader, self.uuid, QuoteLine.from_row)

    @strawberry.field
    @context_only
    def totals(self, info: Info) -> OrderTotals:
        return now_or_later(  # type: ignore[return-value]
            info.context.loaders.get(loaders.QuoteLinesLoader),
            self.uuid,
            lambda rows: OrderTotals.from_totals(totals.compute(rows)),
        )

    @strawberry.field(description="Every revision of this quote, the first first.")
    @context_only
    def revisions(self, info: Info) -> list[Quote]:
        return many(info, loaders.QuoteRevisionsLoader, self.series_id, Quote.from_row)

    @strawberry.field(description="The order its acceptance created.")
    async def order(self, info: Info) -> OrderRef | None:
        return await _order(info, self.order_id)

    @strawberry.field(description="Visits for it (site inspections before quoting).")
    @context_only
    def visits(self, info: Info) -> list[Visit]:
        return many(info, loaders.VisitsByQuoteLoader, self.uuid, Visit.from_row)

    @strawberry.field
    @context_only
    def documents(self, info: Info) -> list[Document]:
        return documents_of(info, "quote_id", self.uuid)


@strawberry.type(description="Installers planned together; booking a team books every member.")
class InstallerTeam(relay.Node):
    id: relay.NodeID[str]
    name: str

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row, id=str(row.id))


@strawberry.type(description="What was found on site, as structured fields.")
class SiteSurvey:
    meter_cabinet: MeterCabinetEnum  # type: ignore[valid-type]
    phases: int
    main_fuse_amps: int
    cable_route: str | None
    cable_length_m: Decimal
    mounting: MountingEnum  # type: ignore[valid-type]
    notes: str | None
    recorded_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row, meter_cabinet=MeterCabinet(row.meter_cabinet), mounting=Mounting(row.mounting))


@strawberry.type(description="A field appointment for an order or a quote; its status goes through the engine.")
class Visit(relay.Node, WithStatus):
    entity_type = EntityType.VISIT

    id: relay.NodeID[str]
    visit_type: VisitTypeEnum  # type: ignore[valid-type]
    starts_at: datetime
    ends_at: datetime
    street: str | None
    house_number: str | None
    postal_code: str | None
    city: str | None
    notes: str | None
    created_at: datetime

    order_id: strawberry.Private[uuid.UUID | None]
    quote_id: strawberry.Private[uuid.UUID | None]
    work_order_id: strawberry.Private[uuid.UUID | None]
    team_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row, id=str(row.id), uuid=row.id, visit_type=VisitType(row.visit_type))

    @strawberry.field(description="The installers booked on it.")
    @context_only
    def installers(self, info: Info) -> list[Contact]:
        def contacts(rows: list[Any]) -> Any:
            return [contact_of(info, row.installer_contact_id) for row in rows]

        return now_or_later(info.context.loaders.get(loaders.VisitInstallersLoader), self.uuid, contacts)  # type: ignore[return-value]

    @strawberry.field(description="The team it was booked for, if any (staff).")
    @context_only
    def team(self, info: Info) -> InstallerTeam | None:
        return one(info, loaders.TeamByIdLoader, self.team_id, InstallerTeam.from_row)

    @strawberry.field
    @context_only
    def survey(self, info: Info) -> SiteSurvey | None:
        return one(info, loaders.SurveyLoader, self.uuid, SiteSurvey.from_row)

    @strawberry.field
    async def order(self, info: Info) -> OrderRef | None:
        return await _order(info, self.order_id)

    @strawberry.field
    @context_only
    def quote(self, info: Info) -> Quote | None:
        return one(info, loaders.QuoteByIdLoader, self.quote_id, Quote.from_row)

    @strawberry.field
    @context_only
    def work_order(self, info: Info) -> WorkOrder | None:
        return one(info, loaders.WorkOrderByIdLoader, self.work_order_id, WorkOrder.from_row)

    @strawberry.field(description="Photos and documents of the visit.")
    @context_only
    def documents(self, info: Info) -> list[Document]:
        return documents_of(info, "visit_id", self.uuid)


@strawberry.type(description="An item of a work order's checklist (tick it with setWorkOrderTaskDone).")
class WorkOrderTask:
    id: strawberry.ID
    position: int
    description: str
    done_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row, id=strawberry.ID(str(row.id)))

    @strawberry.field
    @context_only
    def done(self) -> bool:
        return self.done_at is not None


@strawberry.type(description="The charger installed, the meter reading and the test results.")
class InstallationRecord:
    charger_make: str
    charger_model: str
    serial_number: str
    meter_reading_kwh: Decimal
    earth_resistance_ohm: Decimal
    insulation_resistance_mohm: Decimal
    rcd_trip_time_ms: Decimal
    tests_passed: bool
    recorded_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row)


@strawberry.type(description="A seal removed from or placed on the meter cabinet.")
class SealUsage:
    seal_number: str
    action: SealActionEnum  # type: ignore[valid-type]
    recorded_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row, action=SealAction(row.action))


@strawberry.type(description="Installation or service work for an order; its status goes through the engine.")
class WorkOrder(relay.Node, WithStatus):
    entity_type = EntityType.WORK_ORDER

    id: relay.NodeID[str]
    number: str = strawberry.field(description="`CC-WO-2026-00001`.")
    kind: WorkOrderKindEnum  # type: ignore[valid-type]
    title: str
    created_at: datetime

    order_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return from_row(cls, row, id=str(row.id), uuid=row.id, kind=WorkOrderKind(row.kind))

    @strawberry.field
    async def order(self, info: Info) -> OrderRef | None:
        return await _order(info, self.order_id)

    @strawberry.field(description="The checklist, in order.")
    @context_only
    def tasks(self, info: Info) -> list[WorkOrderTask]:
        return many(info, loaders.TasksLoader, self.uuid, WorkOrderTask.from_row)

    @strawberry.field
    @context_only
    def installation(self, info: Info) -> InstallationRecord | None:
        return one(info, loaders.InstallationLoader, self.uuid, InstallationRecord.from_row)

    @strawberry.field(description="Seals removed and placed, in the order recorded.")
    @context_only
    def seals(self, info: Info) -> list[SealUsage]:
        return many(info, loaders.SealsLoader, self.uuid, SealUsage.from_row)

    @strawberry.field(description="Its visits, by start time.")
    @context_only
    def visits(self, info: Info) -> list[Visit]:
        return many(info, loaders.VisitsByWorkOrderLoader, self.uuid, Visit.from_row)

    @strawberry.field(description="Order lines added for extra work found on site.")
    @context_only
    def extra_lines(self, info: Info) -> list[LineItem]:
        return many(info, loaders.ExtraLinesLoader, self.uuid, LineItem.from_model)

    @strawberry.field
    @context_only
    def documents(self, info: Info) -> list[Document]:
        return documents_of(info, "work_order_id", self.uuid)


def _nodes(
    loader: type[ContextLoader[Any, Any]], convert: Callable[[Any], T]
) -> Callable[[Info, Sequence[uuid.UUID]], Awaitable[list[T | None]]]:
    async def load(info: Info, ids: Sequence[uuid.UUID]) -> list[T | None]:
        rows = await info.context.loaders.get(loader).load_many(ids)
        return [convert(r) if r is not None else None for r in rows]

    return load


for _name, _loader, _type in (
    ("Quote", loaders.QuoteByIdLoader, Quote),
    ("Visit", loaders.VisitByIdLoader, Visit),
    ("WorkOrder", loaders.WorkOrderByIdLoader, WorkOrder),
    ("InstallerTeam", loaders.TeamByIdLoader, InstallerTeam),
    ("Document", loaders.DocumentByIdLoader, Document),
):
    register_node(_name, _nodes(_loader, _type.from_row))
