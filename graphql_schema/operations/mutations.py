"""Field operations' mutations. Planners and field staff (admin, staff) make and change quotes,
visits and work orders; whoever sees a quote may accept it; whoever sees an order, quote, visit,
work order (or a contact in full) may attach a document to it. Statuses (sending a quote,
confirming a visit, completing a work order) move through `changeStatus`."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from strawberry import relay
from strawberry.file_uploads import Upload
from strawberry.types import Info

from app import text
from app.errors import ValidationFailed
from app.keep import KEEP
from app.operations import documents, quotes, visits, work_orders
from app.orders.service import LineIn
from graphql_schema.errors import NotFoundError, PermissionDeniedError, ValidationError, mutate
from graphql_schema.finance.errors import LineAlreadyInvoiced
from graphql_schema.inputs import line_field, text_field
from graphql_schema.loaders import awaited
from graphql_schema.node import decode_id, plain_id
from graphql_schema.numbering.errors import NumberingNotConfiguredError
from graphql_schema.operations import loaders
from graphql_schema.operations.errors import (
    QuoteNotAcceptable,
    QuoteNotEditable,
    SchedulingConflict,
    SealAlreadyUsed,
    UploadRejected,
)
from graphql_schema.operations.types import (
    Document,
    DocumentCategoryEnum,
    InstallerTeam,
    MeterCabinetEnum,
    MountingEnum,
    Quote,
    Visit,
    VisitTypeEnum,
    WorkOrder,
    WorkOrderKindEnum,
    many,
    one,
)
from graphql_schema.orders.errors import OrderLocked
from graphql_schema.orders.line_mutations import line_in_of
from graphql_schema.orders.types import LineItem, Order, load_order
from graphql_schema.permissions import IsSignedIn, IsStaffEditor


@strawberry.input(description="A line; price, description and VAT rate default to the article's.")
class LineInput:
    quantity: Decimal
    article_id: relay.GlobalID | None = None
    description: str | None = line_field(text.LINE_DESCRIPTION_LENGTH, default=None)
    unit_price: Decimal | None = None
    discount_percent: Decimal | None = None
    vat_rate: Decimal | None = None
    is_commissionable: bool | None = None

    def to_line(self, field: str) -> LineIn:
        article_id = (
            decode_id(self.article_id, expected="Article", field=f"{field}.article_id") if self.article_id else KEEP
        )
        return line_in_of(self, article_id=article_id)


def _lines(given: list[LineInput]) -> list[LineIn]:
    return [line.to_line("lines") for line in given]


@strawberry.input(description="A quote's parties (as an order's), validity and lines.")
class CreateQuoteInput:
    business_entity_id: relay.GlobalID
    account_contact_id: relay.GlobalID
    valid_until: date = strawberry.field(description="From today up to a year ahead.")
    lines: list[LineInput]
    end_customer_contact_id: relay.GlobalID | None = None
    channel_contact_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    notes: str | None = text_field(text.LONG_TEXT_LENGTH, default=None)


@strawberry.input(description="A draft's changes: what is left out stays; lines, when given, replace all lines.")
class UpdateQuoteInput:
    id: relay.GlobalID
    valid_until: date | None = None
    notes: str | None = text_field(text.LONG_TEXT_LENGTH, default=None)
    lines: list[LineInput] | None = None


@strawberry.type
class QuoteSuccess:
    quote: Quote


@strawberry.type
class AcceptQuoteSuccess:
    quote: Quote
    order: Order | None = strawberry.field(description="The order the acceptance created.")


QuoteResult = Annotated[
    QuoteSuccess | QuoteNotEditable | NumberingNotConfiguredError | ValidationError | NotFoundError,
    strawberry.union("QuoteResult"),
]
AcceptQuoteResult = Annotated[
    AcceptQuoteSuccess | QuoteNotAcceptable | PermissionDeniedError | ValidationError | NotFoundError,
    strawberry.union("AcceptQuoteResult"),
]


@strawberry.input(description="A visit for an order or a quote; the address defaults to the end customer's.")
class ScheduleVisitInput:
    visit_type: VisitTypeEnum  # type: ignore[valid-type]
    starts_at: datetime
    ends_at: datetime = strawberry.field(description="After the start, within 12 hours.")
    order_id: relay.GlobalID | None = None
    quote_id: relay.GlobalID | None = None
    installer_ids: list[relay.GlobalID] = strawberry.field(
        default_factory=list, description="Persons of an installer organisation."
    )
    team_id: relay.GlobalID | None = strawberry.field(default=None, description="Books every member of the team.")
    work_order_id: relay.GlobalID | None = None
    street: str | None = line_field(100, default=None)
    house_number: str | None = line_field(100, default=None)
    postal_code: str | None = line_field(100, default=None)
    city: str | None = line_field(100, default=None)
    notes: str | None = text_field(text.LONG_TEXT_LENGTH, default=None)


@strawberry.type
class InstallerTeamSuccess:
    team: InstallerTeam


InstallerTeamResult = Annotated[
    InstallerTeamSuccess | ValidationError | NotFoundError, strawberry.union("InstallerTeamResult")
]


@strawberry.input(description="New times; other installers (or a team) when given, else the same ones.")
class RescheduleVisitInput:
    id: relay.GlobalID
    starts_at: datetime
    ends_at: datetime
    installer_ids: list[relay.GlobalID] | None = None
    team_id: relay.GlobalID | None = None


@strawberry.input(description="What was found on site (recorded again: replaced).")
class RecordSiteSurveyInput:
    visit_id: relay.GlobalID
    meter_cabinet: MeterCabinetEnum  # type: ignore[valid-type]
    phases: int = strawberry.field(description="1 or 3.")
    main_fuse_amps: int = strawberry.field(description="6 to 250.")
    cable_length_m: Decimal = strawberry.field(description="0 to 500, to a tenth of a metre.")
    mounting: MountingEnum  # type: ignore[valid-type]
    cable_route: str | None = text_field(text.LONG_TEXT_LENGTH, default=None)
    notes: str | None = text_field(text.LONG_TEXT_LENGTH, default=None)


@strawberry.type
class VisitSuccess:
    visit: Visit


VisitResult = Annotated[
    VisitSuccess | SchedulingConflict | ValidationError | NotFoundError, strawberry.union("VisitResult")
]


@strawberry.input
class CreateWorkOrderInput:
    order_id: relay.GlobalID
    kind: WorkOrderKindEnum  # type: ignore[valid-type]
    title: str = line_field(200)
    tasks: list[str] = strawberry.field(default_factory=list, description="The checklist, up to 50 items.")


@strawberry.input(description="The installation's record (recorded again: replaced), while the work order is open.")
class RecordInstallationInput:
    work_order_id: relay.GlobalID
    charger_make: str = line_field(100)
    charger_model: str = line_field(100)
    serial_number: str = line_field(100)
    meter_reading_kwh: Decimal
    earth_resistance_ohm: Decimal
    insulation_resistance_mohm: Decimal
    rcd_trip_time_ms: Decimal
    tests_passed: bool


@strawberry.input(description="Seals removed from and placed on the meter cabinet; each number is used once.")
class RecordSealsInput:
    work_order_id: relay.GlobalID
    removed: list[str] = strawberry.field(default_factory=list)
    placed: list[str] = strawberry.field(default_factory=list)


@strawberry.input(description="Extra work found on site, added to the order as lines (the order's line lock applies).")
class AddExtraWorkInput:
    work_order_id: relay.GlobalID
    lines: list[LineInput]


@strawberry.type
class WorkOrderSuccess:
    work_order: WorkOrder


@strawberry.type
class ExtraWorkSuccess:
    work_order: WorkOrder
    lines: list[LineItem] = strawberry.field(description="The lines added.")


WorkOrderResult = Annotated[
    WorkOrderSuccess | SealAlreadyUsed | NumberingNotConfiguredError | ValidationError | NotFoundError,
    strawberry.union("WorkOrderResult"),
]
ExtraWorkResult = Annotated[
    ExtraWorkSuccess | OrderLocked | LineAlreadyInvoiced | ValidationError | NotFoundError,
    strawberry.union("ExtraWorkResult"),
]

_PARENT_COLUMNS = {
    "Order": "order_id",
    "Quote": "quote_id",
    "Visit": "visit_id",
    "WorkOrder": "work_order_id",
    "Contact": "contact_id",
}


@strawberry.input(description="A file (GraphQL multipart request) for an order, quote, visit, work order or contact.")
class UploadDocumentInput:
    parent_id: relay.GlobalID = strawberry.field(description="The id of an Order, Quote, Visit, WorkOrder or Contact.")
    file: Upload = strawberry.field(description="JPEG, PNG, WebP, HEIC or PDF (judged from the content).")
    category: DocumentCategoryEnum  # type: ignore[valid-type]
    tags: list[str] = strawberry.field(default_factory=list, description="Up to 10, each up to 40 characters.")


@strawberry.type
class DocumentSuccess:
    document: Document


DocumentResult = Annotated[
    DocumentSuccess | UploadRejected | ValidationError | NotFoundError, strawberry.union("DocumentResult")
]


def _id(value: relay.GlobalID | None, expected: str, field: str) -> uuid.UUID | None:
    return decode_id(value, expected=expected, field=field) if value is not None else None


async def _quote(info: Info, quote_id: uuid.UUID) -> Quote:
    found = await awaited(one(info, loaders.QuoteByIdLoader, quote_id, Quote.from_row))
    assert found is not None, "whoever changed it sees it"
    return found


async def _visit(info: Info, visit_id: uuid.UUID) -> VisitSuccess:
    found = await awaited(one(info, loaders.VisitByIdLoader, visit_id, Visit.from_row))
    assert found is not None, "staff see every visit"
    return VisitSuccess(visit=found)


async def _work_order(info: Info, work_order_id: uuid.UUID) -> WorkOrder:
    found = await awaited(one(info, loaders.WorkOrderByIdLoader, work_order_id, WorkOrder.from_row))
    assert found is not None, "staff see every work order"
    return found


async def _work_order_success(info: Info, work_order_id: uuid.UUID) -> WorkOrderSuccess:
    return WorkOrderSuccess(work_order=await _work_order(info, work_order_id))


@strawberry.type
class OperationMutations:
    @strawberry.mutation(
        permission_classes=[IsStaffEditor], description="Make a draft quote, numbered from the brand's series."
    )
    async def create_quote(self, info: Info, input: CreateQuoteInput) -> QuoteResult:
        async def change(session: AsyncSession) -> Any:
            quote = await quotes.create(
                session=session,
                quote_in=quotes.QuoteIn(
                    business_entity_id=decode_id(
                        input.business_entity_id, expected="BusinessEntity", field="business_entity_id"
                    ),
                    account_contact_id=decode_id(
                        input.account_contact_id, expected="Contact", field="account_contact_id"
                    ),
                    end_customer_contact_id=_id(input.end_customer_contact_id, "Contact", "end_customer_contact_id"),
                    channel_contact_ids=[
                        decode_id(c, expected="Contact", field="channel_contact_ids") for c in input.channel_contact_ids
                    ],
                    valid_until=input.valid_until,
                    notes=input.notes,
                    lines=_lines(input.lines),
                ),
                actor=info.context.actor,
                viewer=info.context.viewer,
            )
            return quote.id

        return await mutate(info, change, lambda quote_id: _quote_success(info, quote_id))

    @strawberry.mutation(
        permission_classes=[IsStaffEditor], description="Change a draft quote (QuoteNotEditable once sent)."
    )
    async def update_quote(self, info: Info, input: UpdateQuoteInput) -> QuoteResult:
        async def change(session: AsyncSession) -> Any:
            quote = await quotes.change_draft(
                session=session,
                quote_id=decode_id(input.id, expected="Quote", field="id"),
                change=quotes.DraftChange(
                    valid_until=input.valid_until,
                    notes=input.notes,
                    lines=_lines(input.lines) if input.lines is not None else None,
                ),
                actor=info.context.actor,
            )
            return quote.id

        return await mutate(info, change, lambda quote_id: _quote_success(info, quote_id))

    @strawberry.mutation(
        permission_classes=[IsStaffEditor],
        description="A new draft revision of a sent quote (same number, next revision); the sent one is superseded.",
    )
    async def revise_quote(self, info: Info, id: relay.GlobalID) -> QuoteResult:
        async def change(session: AsyncSession) -> Any:
            quote = await quotes.revise(
                session=session, quote_id=decode_id(id, expected="Quote", field="id"), actor=info.context.actor
            )
            return quote.id

        return await mutate(info, change, lambda quote_id: _quote_success(info, quote_id))

    @strawberry.mutation(
        permission_classes=[IsSignedIn],
        description=(
            "Accept a sent, valid quote: its order is created in the same transaction with the quote's parties, chain "
            "and lines. Its customer, a partner of its chain or staff may accept it. Twice, expired or superseded: "
            "QuoteNotAcceptable."
        ),
    )
    async def accept_quote(self, info: Info, id: relay.GlobalID) -> AcceptQuoteResult:
        quote_id = decode_id(id, expected="Quote", field="id")

        async def change(session: AsyncSession) -> Any:
            return await quotes.accept(
                session=session, quote_id=quote_id, actor=info.context.actor, viewer=info.context.viewer
            )

        async def answer(order_id: uuid.UUID) -> AcceptQuoteSuccess:
            return AcceptQuoteSuccess(quote=await _quote(info, quote_id), order=await load_order(info, order_id))

        return await mutate(info, change, answer)

    @strawberry.mutation(
        permission_classes=[IsStaffEditor],
        description="Plan a visit and book its installers; an installer booked elsewhere then: SchedulingConflict.",
    )
    async def schedule_visit(self, info: Info, input: ScheduleVisitInput) -> VisitResult:
        async def change(session: AsyncSession) -> Any:
            visit = await visits.schedule(
                session=session,
                visit_in=visits.VisitIn(
                    order_id=_id(input.order_id, "Order", "order_id"),
                    quote_id=_id(input.quote_id, "Quote", "quote_id"),
                    visit_type=input.visit_type,
                    starts_at=input.starts_at,
                    ends_at=input.ends_at,
                    installer_ids=[
                        decode_id(i, expected="Contact", field="installer_ids") for i in input.installer_ids
                    ],
                    team_id=_id(input.team_id, "InstallerTeam", "team_id"),
                    work_order_id=_id(input.work_order_id, "WorkOrder", "work_order_id"),
                    street=input.street,
                    house_number=input.house_number,
                    postal_code=input.postal_code,
                    city=input.city,
                    notes=input.notes,
                ),
                actor=info.context.actor,
            )
            return visit.id

        return await mutate(info, change, lambda visit_id: _visit(info, visit_id))

    @strawberry.mutation(permission_classes=[IsStaffEditor], description="A named team of installers.")
    async def create_installer_team(
        self, info: Info, name: str, installer_ids: list[relay.GlobalID]
    ) -> InstallerTeamResult:
        async def change(session: AsyncSession) -> Any:
            team = await visits.create_team(
                session=session,
                name=name,
                installer_ids=[decode_id(i, expected="Contact", field="installer_ids") for i in installer_ids],
                actor=info.context.actor,
            )
            return team.id

        async def answer(team_id: uuid.UUID) -> InstallerTeamSuccess:
            found = await awaited(one(info, loaders.TeamByIdLoader, team_id, InstallerTeam.from_row))
            assert found is not None, "staff see every team"
            return InstallerTeamSuccess(team=found)

        return await mutate(info, change, answer)

    @strawberry.mutation(permission_classes=[IsStaffEditor], description="Move a planned or confirmed visit.")
    async def reschedule_visit(self, info: Info, input: RescheduleVisitInput) -> VisitResult:
        async def change(session: AsyncSession) -> Any:
            visit = await visits.reschedule(
                session=session,
                visit_id=decode_id(input.id, expected="Visit", field="id"),
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                installer_ids=[decode_id(i, expected="Contact", field="installer_ids") for i in input.installer_ids]
                if input.installer_ids is not None
                else None,
                team_id=_id(input.team_id, "InstallerTeam", "team_id"),
                actor=info.context.actor,
            )
            return visit.id

        return await mutate(info, change, lambda visit_id: _visit(info, visit_id))

    @strawberry.mutation(permission_classes=[IsStaffEditor], description="Record what was found on site.")
    async def record_site_survey(self, info: Info, input: RecordSiteSurveyInput) -> VisitResult:
        visit_id = decode_id(input.visit_id, expected="Visit", field="visit_id")
        survey_in = visits.SurveyIn(
            meter_cabinet=input.meter_cabinet,
            phases=input.phases,
            main_fuse_amps=input.main_fuse_amps,
            cable_length_m=input.cable_length_m,
            mounting=input.mounting,
            cable_route=input.cable_route,
            notes=input.notes,
        )

        async def work(session: AsyncSession) -> None:
            await visits.record_survey(
                session=session, visit_id=visit_id, survey_in=survey_in, actor=info.context.actor
            )

        return await _recorded(info, visit_id, work, _visit)

    @strawberry.mutation(
        permission_classes=[IsStaffEditor], description="A work order for an order, numbered from the brand's series."
    )
    async def create_work_order(self, info: Info, input: CreateWorkOrderInput) -> WorkOrderResult:
        async def change(session: AsyncSession) -> Any:
            work_order = await work_orders.create(
                session=session,
                order_id=decode_id(input.order_id, expected="Order", field="order_id"),
                kind=input.kind,
                title=input.title,
                tasks=input.tasks,
                actor=info.context.actor,
            )
            return work_order.id

        return await mutate(info, change, lambda found: _work_order_success(info, found))

    @strawberry.mutation(permission_classes=[IsStaffEditor], description="Tick (or untick) an item of a checklist.")
    async def set_work_order_task_done(self, info: Info, task_id: strawberry.ID, done: bool) -> WorkOrderResult:
        async def change(session: AsyncSession) -> Any:
            task = await work_orders.set_task_done(
                session=session,
                task_id=plain_id(task_id, entity="WorkOrderTask", field="task_id"),
                done=done,
                actor=info.context.actor,
            )
            return task.work_order_id

        return await mutate(info, change, lambda found: _work_order_success(info, found))

    @strawberry.mutation(
        permission_classes=[IsStaffEditor], description="Record the installation of an installation work order."
    )
    async def record_installation(self, info: Info, input: RecordInstallationInput) -> WorkOrderResult:
        work_order_id = decode_id(input.work_order_id, expected="WorkOrder", field="work_order_id")
        record_in = work_orders.InstallationIn(
            charger_make=input.charger_make,
            charger_model=input.charger_model,
            serial_number=input.serial_number,
            meter_reading_kwh=input.meter_reading_kwh,
            earth_resistance_ohm=input.earth_resistance_ohm,
            insulation_resistance_mohm=input.insulation_resistance_mohm,
            rcd_trip_time_ms=input.rcd_trip_time_ms,
            tests_passed=input.tests_passed,
        )

        async def work(session: AsyncSession) -> None:
            await work_orders.record_installation(
                session=session, work_order_id=work_order_id, record_in=record_in, actor=info.context.actor
            )

        return await _recorded(info, work_order_id, work, _work_order_success)

    @strawberry.mutation(
        permission_classes=[IsStaffEditor],
        description="Record seals; a number placed (or removed) before: SealAlreadyUsed.",
    )
    async def record_seals(self, info: Info, input: RecordSealsInput) -> WorkOrderResult:
        work_order_id = decode_id(input.work_order_id, expected="WorkOrder", field="work_order_id")

        async def work(session: AsyncSession) -> None:
            await work_orders.record_seals(
                session=session,
                work_order_id=work_order_id,
                removed=input.removed,
                placed=input.placed,
                actor=info.context.actor,
            )

        return await _recorded(info, work_order_id, work, _work_order_success)

    @strawberry.mutation(permission_classes=[IsStaffEditor], description="Add extra work found on site to the order.")
    async def add_extra_work(self, info: Info, input: AddExtraWorkInput) -> ExtraWorkResult:
        work_order_id = decode_id(input.work_order_id, expected="WorkOrder", field="work_order_id")

        async def change(session: AsyncSession) -> Any:
            return await work_orders.add_extra_work(
                session=session, work_order_id=work_order_id, lines=_lines(input.lines), actor=info.context.actor
            )

        async def answer(line_ids: list[uuid.UUID]) -> ExtraWorkSuccess:
            work_order = await _work_order(info, work_order_id)
            added = await awaited(many(info, loaders.ExtraLinesLoader, work_order_id, LineItem.from_model))
            return ExtraWorkSuccess(
                work_order=work_order, lines=[line for line in added if line.id in {str(i) for i in line_ids}]
            )

        return await mutate(info, change, answer)

    @strawberry.mutation(
        permission_classes=[IsSignedIn],
        description=(
            "Upload a file (GraphQL multipart request) to what the viewer may see: an order, quote, visit, work order, "
            "or a contact it sees in full. Too large, empty or of a type not accepted: UploadRejected, nothing kept."
        ),
    )
    async def upload_document(self, info: Info, input: UploadDocumentInput) -> DocumentResult:
        ctx = info.context
        column = _PARENT_COLUMNS.get(input.parent_id.type_name)

        async def change(session: AsyncSession) -> Any:
            if column is None or ctx.documents is None:
                raise ValidationFailed(
                    "Attach a document to an Order, Quote, Visit, WorkOrder or Contact.", field="parent_id"
                )
            upload: Any = input.file
            if not isinstance(upload, UploadFile):  # a literal in the document, not a part of the request
                raise ValidationFailed("Send the file as a part of a multipart request.", field="file")
            data = await upload.read(ctx.max_upload_bytes + 1)
            document = await documents.upload(
                session=session,
                store=ctx.documents,
                upload_in=documents.UploadIn(
                    parent_column=column,
                    parent_id=decode_id(input.parent_id, expected=input.parent_id.type_name, field="parent_id"),
                    file_name=upload.filename or "",
                    data=data,
                    category=input.category,
                    tags=input.tags,
                ),
                max_bytes=ctx.max_upload_bytes,
                actor=ctx.actor,
                viewer=ctx.viewer,
            )
            return document.id

        async def answer(document_id: uuid.UUID) -> DocumentSuccess:
            found = await awaited(one(info, loaders.DocumentByIdLoader, document_id, Document.from_row))
            assert found is not None, "the uploader sees the parent"
            return DocumentSuccess(document=found)

        return await mutate(info, change, answer)


async def _recorded(
    info: Info,
    entity_id: uuid.UUID,
    work: Callable[[AsyncSession], Awaitable[None]],
    answer: Callable[[Info, uuid.UUID], Awaitable[Any]],
) -> Any:
    """A mutation that records something on a visit or work order and answers with it."""

    async def change(session: AsyncSession) -> uuid.UUID:
        await work(session)
        return entity_id

    return await mutate(info, change, lambda found: answer(info, found))


async def _quote_success(info: Info, quote_id: uuid.UUID) -> QuoteSuccess:
    return QuoteSuccess(quote=await _quote(info, quote_id))
