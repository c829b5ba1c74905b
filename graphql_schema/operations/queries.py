"""`quotes`, `visits`, `workOrders` (what the viewer may see), `installerTeams` and
`availableSlots` (staff, for planners), `installerPerformance` (staff; a partner: its own
installers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import strawberry
from sqlalchemy import select
from strawberry import relay
from strawberry.types import Info

from app import text
from app.access import policy
from app.db import columns, read
from app.errors import DomainError
from app.operations import performance, quotes, visits, work_orders
from app.operations.models import InstallerTeam as InstallerTeamModel
from graphql_schema.contacts.types import Contact, contact_of
from graphql_schema.errors import bad_input
from graphql_schema.loaders import awaited
from graphql_schema.node import argument_id
from graphql_schema.operations import loaders
from graphql_schema.operations.types import InstallerTeam, Quote, Visit, WorkOrder, one
from graphql_schema.pagination import After, Before, Connection, First, Last, PageArgs, filtered_connection
from graphql_schema.permissions import IsStaff, IsStaffOrPartner


def _statuses(values: list[str] | None) -> tuple[str, ...]:
    return text.lines(values or (), field="status", max_length=text.STATUS_NAME_LENGTH)


@strawberry.input
class QuoteFilterInput:
    status: list[str] | None = strawberry.field(default=None, description="Any of these statuses.")
    business_entity_id: relay.GlobalID | None = None
    contact_id: relay.GlobalID | None = strawberry.field(default=None, description="A party of the quote.")


@strawberry.input
class VisitFilterInput:
    installer_id: relay.GlobalID | None = None
    team_id: relay.GlobalID | None = None
    order_id: relay.GlobalID | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    status: list[str] | None = None


@strawberry.input
class WorkOrderFilterInput:
    order_id: relay.GlobalID | None = None
    status: list[str] | None = None


@strawberry.type(description="A time at which every installer asked about is free.")
class TimeSlot:
    starts_at: datetime
    ends_at: datetime


@strawberry.type(description="Figures of one installer or team over a period (docs/operations.md).")
class PerformanceFigures:
    visits_done: int
    arrivals_recorded: int = strawberry.field(description="Done visits whose arrival on site is recorded.")
    on_time_arrivals: int
    on_time_rate: float | None = strawberry.field(description="On-time arrivals ÷ arrivals recorded.")
    average_minutes_on_site: float | None
    installations_completed: int
    first_time_fixes: int = strawberry.field(description="Installations completed in one visit.")
    first_time_fix_rate: float | None
    rework: int = strawberry.field(description="Work orders moved back out of completed.")

    @classmethod
    def of(cls, figures: performance.Figures) -> PerformanceFigures:
        return cls(
            visits_done=figures.visits_done,
            arrivals_recorded=figures.arrivals_recorded,
            on_time_arrivals=figures.on_time_arrivals,
            on_time_rate=figures.on_time_rate,
            average_minutes_on_site=figures.average_minutes_on_site,
            installations_completed=figures.installations_completed,
            first_time_fixes=figures.first_time_fixes,
            first_time_fix_rate=figures.first_time_fix_rate,
            rework=figures.rework,
        )


@strawberry.type
class InstallerFigures:
    installer: Contact | None
    figures: PerformanceFigures


@strawberry.type
class TeamFigures:
    team: InstallerTeam | None
    figures: PerformanceFigures


@strawberry.type(description="Installer performance over a period.")
class InstallerPerformance:
    installers: list[InstallerFigures]
    teams: list[TeamFigures] = strawberry.field(description="Staff only (empty for partners).")


def _refused(exc: DomainError) -> Exception:
    return bad_input(exc.message)


@strawberry.type
class OperationQueries:
    @strawberry.field(description="Quotes the viewer may see, newest first.")
    async def quotes(
        self,
        info: Info,
        filter: QuoteFilterInput | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Quote]:
        given = filter or QuoteFilterInput()
        quote_filter = quotes.QuoteFilter(
            statuses=_statuses(given.status),
            business_entity_id=argument_id(
                given.business_entity_id, expected="BusinessEntity", field="filter.businessEntityId"
            ),
            contact_id=argument_id(given.contact_id, expected="Contact", field="filter.contactId"),
        )
        return await filtered_connection(
            info, PageArgs(first, after, last, before), quote_filter, quotes.count, quotes.search, Quote.from_row
        )

    @strawberry.field(description="Visits the viewer may see, by start time.")
    async def visits(
        self,
        info: Info,
        filter: VisitFilterInput | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Visit]:
        given = filter or VisitFilterInput()
        visit_filter = visits.VisitFilter(
            installer_id=argument_id(given.installer_id, expected="Contact", field="filter.installerId"),
            team_id=argument_id(given.team_id, expected="InstallerTeam", field="filter.teamId"),
            order_id=argument_id(given.order_id, expected="Order", field="filter.orderId"),
            starts_from=given.starts_from,
            starts_before=given.starts_before,
            statuses=_statuses(given.status),
        )
        return await filtered_connection(
            info, PageArgs(first, after, last, before), visit_filter, visits.count, visits.search, Visit.from_row
        )

    @strawberry.field(description="Work orders the viewer may see, newest first.")
    async def work_orders(
        self,
        info: Info,
        filter: WorkOrderFilterInput | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[WorkOrder]:
        given = filter or WorkOrderFilterInput()
        work_filter = work_orders.WorkOrderFilter(
            order_id=argument_id(given.order_id, expected="Order", field="filter.orderId"),
            statuses=_statuses(given.status),
        )
        return await filtered_connection(
            info,
            PageArgs(first, after, last, before),
            work_filter,
            work_orders.count,
            work_orders.search,
            WorkOrder.from_row,
        )

    @strawberry.field(permission_classes=[IsStaff], description="The installer teams, by name.")
    async def installer_teams(self, info: Info) -> list[InstallerTeam]:
        async with info.context.db() as session:
            rows = await read(
                session,
                select(*columns(InstallerTeamModel))
                .where(policy.visible(info.context.viewer, InstallerTeamModel))
                .order_by(InstallerTeamModel.name),
            )
        return [InstallerTeam.from_row(row) for row in rows]

    @strawberry.field(
        permission_classes=[IsStaff],
        description=(
            "Start times (on the half hour, Monday to Friday 08:00–17:00 Amsterdam time, not in the past) at which "
            "the installer — or every member of the team — is free for `durationMinutes`; the period is at most "
            "31 days."
        ),
    )
    async def available_slots(
        self,
        info: Info,
        starts_from: datetime,
        ends_before: datetime,
        duration_minutes: int,
        installer_id: relay.GlobalID | None = None,
        team_id: relay.GlobalID | None = None,
    ) -> list[TimeSlot]:
        installer = argument_id(installer_id, expected="Contact", field="installerId")
        team = argument_id(team_id, expected="InstallerTeam", field="teamId")
        if (installer is None) == (team is None):
            raise bad_input("Ask for an installer or for a team.")
        try:
            async with info.context.db() as session:
                members = await visits.installers_of(session, [installer] if installer else [], team)
                found = await visits.available_slots(
                    session=session,
                    installer_ids=members,
                    period_start=starts_from,
                    period_end=ends_before,
                    duration=timedelta(minutes=duration_minutes),
                    now=datetime.now(UTC),
                )
        except DomainError as exc:
            raise _refused(exc) from None
        return [TimeSlot(starts_at=start, ends_at=end) for start, end in found]

    @strawberry.field(
        permission_classes=[IsStaffOrPartner],
        description="Visits done, on-time arrivals, first-time fixes, time on site and rework per installer and team.",
    )
    async def installer_performance(
        self, info: Info, starts_from: datetime, ends_before: datetime
    ) -> InstallerPerformance:
        ctx = info.context
        try:
            async with ctx.db() as session:
                per_installer = await performance.per_installer(
                    session=session, start=starts_from, end=ends_before, viewer=ctx.viewer
                )
                per_team = await performance.per_team(
                    session=session, start=starts_from, end=ends_before, viewer=ctx.viewer
                )
        except DomainError as exc:
            raise _refused(exc) from None
        return InstallerPerformance(
            installers=[
                InstallerFigures(
                    installer=await awaited(contact_of(info, f.subject_id)), figures=PerformanceFigures.of(f)
                )
                for f in per_installer
            ],
            teams=[
                TeamFigures(
                    team=await awaited(one(info, loaders.TeamByIdLoader, f.subject_id, InstallerTeam.from_row)),
                    figures=PerformanceFigures.of(f),
                )
                for f in per_team
            ],
        )
