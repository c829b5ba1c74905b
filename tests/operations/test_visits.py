"""Visits: no installer is ever booked twice at overlapping times (the database refuses it, also
under concurrency), a cancelled visit frees the time, planners ask for free slots, and what was
found on site is recorded as structured fields."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.exc import IntegrityError

from app.operations.models import Visit, VisitInstaller
from tests.factories import gid
from tests.operations.conftest import Field, next_weekday
from tests.support.api import CHANGE, gql, gql_errors

SCHEDULE = """
mutation ($input: ScheduleVisitInput!) { scheduleVisit(input: $input) {
  __typename
  ... on VisitSuccess { visit { id startsAt endsAt status { name } installers { id } street city } }
  ... on SchedulingConflict { installerId installerName visitId startsAt endsAt code message }
  ... on UserError { code field message }
} }"""
RESCHEDULE = """
mutation ($input: RescheduleVisitInput!) { rescheduleVisit(input: $input) {
  __typename ... on VisitSuccess { visit { startsAt } } ... on SchedulingConflict { visitId }
  ... on UserError { code message }
} }"""
SLOTS = """
query ($installer: ID, $team: ID, $from: DateTime!, $to: DateTime!, $minutes: Int!) {
  availableSlots(installerId: $installer, teamId: $team, startsFrom: $from, endsBefore: $to, durationMinutes: $minutes)
  { startsAt endsAt } }"""
SURVEY = """
mutation ($input: RecordSiteSurveyInput!) { recordSiteSurvey(input: $input) {
  __typename ... on VisitSuccess { visit { survey { meterCabinet phases mainFuseAmps cableLengthM mounting } } }
  ... on UserError { code field }
} }"""
TEAM = """
mutation ($name: String!, $ids: [ID!]!) { createInstallerTeam(name: $name, installerIds: $ids) {
  __typename ... on InstallerTeamSuccess { team { id name } } ... on UserError { code field message }
} }"""


def visit_input(world: Field, starts, hours: float, installers: list, **extra) -> dict:
    return {
        "input": {
            "orderId": gid("Order", world.order),
            "visitType": "INSTALLATION",
            "startsAt": starts.isoformat(),
            "endsAt": (starts + timedelta(hours=hours)).isoformat(),
            "installerIds": world.ids(*installers),
            **extra,
        }
    }


async def schedule(client, world: Field, starts, hours: float, installers: list, **extra) -> dict:
    variables = visit_input(world, starts, hours, installers, **extra)
    return (await gql(client, SCHEDULE, variables, token=world.tokens["staff"]))["scheduleVisit"]


async def test_an_installer_is_never_booked_twice_and_the_clash_is_named(client, field_world: Field) -> None:
    world = field_world
    first, second, third = world.installers
    monday = next_weekday(9)
    booked = await schedule(client, world, monday, 3, [first, second])
    assert booked["__typename"] == "VisitSuccess"
    assert {i["id"] for i in booked["visit"]["installers"]} == set(world.ids(first, second))
    assert booked["visit"]["status"]["name"] == "planned"

    clash = await schedule(client, world, monday + timedelta(hours=2), 2, [third, second])
    assert clash["__typename"] == "SchedulingConflict" and clash["code"] == "SCHEDULING_CONFLICT"
    assert clash["installerId"] == gid("Contact", second) and clash["installerName"] == "Installer 1"
    assert clash["visitId"] == booked["visit"]["id"]
    assert clash["startsAt"] == booked["visit"]["startsAt"]

    # touching is not overlapping; the third installer alone is free
    assert (await schedule(client, world, monday + timedelta(hours=3), 1, [second]))["__typename"] == "VisitSuccess"
    assert (await schedule(client, world, monday + timedelta(hours=1), 1, [third]))["__typename"] == "VisitSuccess"

    # a cancelled visit frees its installers' time
    cancel = {"input": {"entityType": "VISIT", "entityId": booked["visit"]["id"], "toStatus": "cancelled"}}
    assert (await gql(client, CHANGE, cancel, token=world.tokens["staff"]))["changeStatus"]["__typename"] == (
        "ChangeStatusSuccess"
    )
    assert (await schedule(client, world, monday, 1, [first]))["__typename"] == "VisitSuccess"


async def test_concurrent_bookings_of_one_installer_cannot_both_succeed(client, sessions, field_world: Field) -> None:
    world = field_world
    installer = world.installers[0]
    start = next_weekday(10)
    results = await asyncio.gather(
        *(schedule(client, world, start + timedelta(minutes=10 * n), 2, [installer]) for n in range(8))
    )
    assert sorted(r["__typename"] for r in results) == ["SchedulingConflict"] * 7 + ["VisitSuccess"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Visit)) == 1  # the refused left nothing

    # the database itself refuses it, whatever writes the row
    async with sessions() as session:
        visit_id = await session.scalar(select(Visit.id))
    async with sessions() as session:
        with pytest.raises(IntegrityError, match="no_double_booking"):
            async with session.begin():
                await session.execute(
                    insert(VisitInstaller).values(
                        visit_id=visit_id,
                        installer_contact_id=world.installers[1],
                        during=Range(start, start + timedelta(hours=1)),
                    )
                )
                other = await session.scalar(
                    text("INSERT INTO visit (business_entity_id, order_id, visit_type, starts_at, ends_at, status) "
                         "SELECT business_entity_id, order_id, visit_type, starts_at, ends_at, 'planned' FROM visit "
                         "WHERE id = :v RETURNING id"), {"v": visit_id},
                )  # fmt: skip
                await session.execute(
                    insert(VisitInstaller).values(
                        visit_id=other, installer_contact_id=installer, during=Range(start, start + timedelta(hours=1))
                    )
                )


async def test_rescheduling_into_a_clash_is_refused_and_changes_nothing(client, field_world: Field) -> None:
    world = field_world
    start = next_weekday(8)
    first = (await schedule(client, world, start, 2, [world.installers[0]]))["visit"]
    second = (await schedule(client, world, start + timedelta(hours=4), 2, [world.installers[0]]))["visit"]
    moved = {"id": second["id"], "startsAt": start.isoformat(), "endsAt": (start + timedelta(hours=1)).isoformat()}
    refused = (await gql(client, RESCHEDULE, {"input": moved}, token=world.tokens["staff"]))["rescheduleVisit"]
    assert (refused["__typename"], refused["visitId"]) == ("SchedulingConflict", first["id"])
    later = {
        **moved,
        "startsAt": (start + timedelta(hours=5)).isoformat(),
        "endsAt": (start + timedelta(hours=6)).isoformat(),
    }
    done = (await gql(client, RESCHEDULE, {"input": later}, token=world.tokens["staff"]))["rescheduleVisit"]
    assert done["__typename"] == "VisitSuccess"


async def test_visit_input_is_checked(client, field_world: Field) -> None:
    world = field_world
    start = next_weekday(9)
    for installers, hours, extra, field in (
        ([], 1, {}, "installerIds"),
        ([world.partner_person], 1, {}, "installerIds"),  # not a person of an installer organisation
        ([world.installers[0]], 13, {}, "endsAt"),
        ([world.installers[0]], -1, {}, "endsAt"),
        ([world.installers[0]], 1, {"workOrderId": gid("Order", world.order)}, "workOrderId"),  # wrong kind of id
        ([world.installers[0]], 1, {"quoteId": gid("Quote", world.order)}, "orderId"),  # both an order and a quote
    ):
        result = await schedule(client, world, start, hours, installers, **extra)
        assert result["__typename"] == "ValidationError" and result["field"] == field, (field, result)
    errors = await gql_errors(
        client, SCHEDULE, visit_input(world, start, 1, [world.installers[0]]), token=world.tokens["partner"]
    )
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_address_defaults_to_the_end_customers(client, sessions, field_world: Field) -> None:
    world = field_world
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE contact SET street = 'Dorpsstraat', city = 'Haren' WHERE id = :c"), {"c": world.customer}
        )
    visit = (await schedule(client, world, next_weekday(9), 1, [world.installers[0]]))["visit"]
    assert (visit["street"], visit["city"]) == ("Dorpsstraat", "Haren")
    given = await schedule(client, world, next_weekday(13), 1, [world.installers[0]], street="Elders 1", city="Assen")
    assert (given["visit"]["street"], given["visit"]["city"]) == ("Elders 1", "Assen")


async def test_available_slots_leave_out_bookings_weekends_and_what_does_not_fit(client, field_world: Field) -> None:
    world = field_world
    first, second, _ = world.installers
    day = next_weekday(0)  # midnight UTC of a weekday a week ahead
    friday = day + timedelta(days=(4 - day.weekday()) % 7)
    # working hours are 08:00-17:00 in Amsterdam (UTC+1 in winter, +2 in summer)
    offset = friday.astimezone(ZoneInfo("Europe/Amsterdam")).utcoffset() or timedelta(0)
    opening = friday + timedelta(hours=8) - offset
    await schedule(client, world, opening + timedelta(hours=2), 2, [first])  # 10:00-12:00 local
    await schedule(client, world, opening + timedelta(hours=5), 1, [second])  # 13:00-14:00 local
    variables = {
        "installer": gid("Contact", first),
        "from": friday.isoformat(),
        "to": (friday + timedelta(days=3)).isoformat(),  # Friday to Monday 00:00: the weekend offers nothing
        "minutes": 120,
    }
    slots = (await gql(client, SLOTS, variables, token=world.tokens["staff"]))["availableSlots"]
    found = [(datetime.fromisoformat(s["startsAt"]), datetime.fromisoformat(s["endsAt"])) for s in slots]

    def at(hour: int, minute: int = 0) -> datetime:  # local working time on that Friday
        return opening + timedelta(hours=hour - 8, minutes=minute)

    assert found[0] == (at(8), at(10))  # 08:00-10:00 fits before the booking
    assert all(not (start < at(12) and end > at(10)) for start, end in found)
    assert found[-1] == (at(15), at(17))
    assert len(found) == 1 + 7  # 08:00, then 12:00 … 15:00 every half hour; nothing on Saturday or Sunday
    # a team: free only when every member is
    team = await gql(client, TEAM, {"name": "Team A", "ids": world.ids(first, second)}, token=world.tokens["staff"])
    team_id = team["createInstallerTeam"]["team"]["id"]
    both = await gql(
        client, SLOTS, {**variables, "installer": None, "team": team_id, "minutes": 60}, token=world.tokens["staff"]
    )
    starts = [datetime.fromisoformat(s["startsAt"]) for s in both["availableSlots"]]
    assert at(12) in starts and at(12, 30) not in starts and at(13) not in starts and at(14) in starts
    assert at(10) not in starts and at(9) in starts
    errors = await gql_errors(client, SLOTS, {**variables, "minutes": 5}, token=world.tokens["staff"])
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_site_survey_is_recorded_as_fields_and_checked(client, field_world: Field) -> None:
    world = field_world
    visit = (await schedule(client, world, next_weekday(9), 1, [world.installers[0]]))["visit"]
    survey = {
        "visitId": visit["id"],
        "meterCabinet": "NEEDS_UPGRADE",
        "phases": 3,
        "mainFuseAmps": 25,
        "cableLengthM": "14.5",
        "mounting": "WALL",
    }
    recorded = (await gql(client, SURVEY, {"input": survey}, token=world.tokens["staff"]))["recordSiteSurvey"]
    assert recorded["visit"]["survey"] == {
        "meterCabinet": "NEEDS_UPGRADE",
        "phases": 3,
        "mainFuseAmps": 25,
        "cableLengthM": "14.5",
        "mounting": "WALL",
    }
    for change, field in (
        ({"phases": 2}, "phases"),
        ({"mainFuseAmps": 400}, "mainFuseAmps"),
        ({"cableLengthM": "1.25"}, "cableLengthM"),
    ):
        refused = await gql(client, SURVEY, {"input": {**survey, **change}}, token=world.tokens["staff"])
        assert refused["recordSiteSurvey"] == {
            "__typename": "ValidationError",
            "code": "VALIDATION_FAILED",
            "field": field,
        }
