"""Installer performance equals an independent recomputation from generated visits, work orders
and status history, per installer and per team; a partner sees its own installers only."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text

from app.accounts.models import Role
from app.operations.models import InstallerTeam, InstallerTeamMember, Visit, WorkOrder
from app.status.models import Movement, StatusTransition
from tests.factories import gid, issue_token, make_contact
from tests.operations.conftest import Field
from tests.support.api import gql
from tests.support.walls import WALLS, knock_down

PERIOD_START = datetime(2026, 3, 1, tzinfo=UTC)
PERIOD_END = datetime(2026, 6, 1, tzinfo=UTC)
GRACE = timedelta(minutes=15)

REPORT = """
query ($from: DateTime!, $to: DateTime!) { installerPerformance(startsFrom: $from, endsBefore: $to) {
  installers { installer { id } figures { visitsDone arrivalsRecorded onTimeArrivals onTimeRate averageMinutesOnSite
                                          installationsCompleted firstTimeFixes firstTimeFixRate rework } }
  teams { team { id } figures { visitsDone arrivalsRecorded onTimeArrivals averageMinutesOnSite
                               installationsCompleted firstTimeFixes rework } }
} }"""


@dataclass
class History:
    visits: dict[uuid.UUID, dict] = field(default_factory=dict)
    work_orders: dict[uuid.UUID, dict] = field(default_factory=dict)


def expected(history: History, members: set[uuid.UUID]) -> dict:
    """The figures by their definitions (docs/operations.md), from the generated rows."""
    done = [
        v for v in history.visits.values()
        if v["status"] == "done" and v["installers"] & members and PERIOD_START <= v["starts"] < PERIOD_END
    ]  # fmt: skip
    arrived = [v for v in done if v["arrived"] is not None]
    on_site = [(v["finished"] - v["arrived"]).total_seconds() / 60 for v in arrived if v["finished"] is not None]
    worked = {
        v["work_order"]
        for v in history.visits.values()
        if v["status"] == "done" and v["installers"] & members and v["work_order"] is not None
    }
    completed = [
        w for w in worked
        if history.work_orders[w]["kind"] == "installation"
        and history.work_orders[w]["completions"]
        and PERIOD_START <= min(history.work_orders[w]["completions"]) < PERIOD_END
    ]  # fmt: skip
    done_visits = {
        w: sum(1 for v in history.visits.values() if v["work_order"] == w and v["status"] == "done") for w in completed
    }
    return {
        "visitsDone": len(done),
        "arrivalsRecorded": len(arrived),
        "onTimeArrivals": sum(1 for v in arrived if v["arrived"] <= v["starts"] + GRACE),
        "averageMinutesOnSite": round(sum(on_site) / len(on_site), 1) if on_site else None,
        "installationsCompleted": len(completed),
        "firstTimeFixes": sum(1 for w in completed if done_visits[w] == 1),
        "rework": sum(
            1 for w in worked for at in history.work_orders[w]["reopened"] if PERIOD_START <= at < PERIOD_END
        ),
    }


async def generate(sessions, world: Field, installers: list[uuid.UUID]) -> History:
    rng = random.Random(16)
    history = History()
    async with sessions() as session, session.begin():
        workflows = text("SELECT entity_type, id FROM status_workflow WHERE entity_type IN ('visit', 'work_order')")
        flows = dict((await session.execute(workflows)).all())
        transitions: list[dict] = []

        def moved(kind: str, entity: uuid.UUID, from_status: str | None, to: str, at: datetime, back: bool = False):
            movement = Movement.BACKWARD if back else (Movement.INITIAL if from_status is None else Movement.FORWARD)
            transitions.append(
                {"entity_type": kind, "entity_id": entity, "workflow_id": flows[kind], "from_status": from_status,
                 "to_status": to, "movement": movement, "created_at": at}
            )  # fmt: skip

        work_orders = []
        for n in range(10):
            work_order_id, kind = uuid.uuid4(), "installation" if n < 8 else "service"
            completions, reopened = [], []
            at = PERIOD_START + timedelta(days=rng.randint(-20, 100))
            moved("work_order", work_order_id, None, "open", at - timedelta(days=1))
            status = "open"
            if rng.random() < 0.8:
                completions.append(at)
                moved("work_order", work_order_id, "open", "completed", at)
                status = "completed"
                if rng.random() < 0.4:
                    again = at + timedelta(days=rng.randint(1, 30))
                    reopened.append(again)
                    moved("work_order", work_order_id, "completed", "in_progress", again, back=True)
                    completions.append(again + timedelta(days=1))
                    moved("work_order", work_order_id, "in_progress", "completed", again + timedelta(days=1))
            history.work_orders[work_order_id] = {"kind": kind, "completions": completions, "reopened": reopened}
            work_orders.append(
                {"id": work_order_id, "business_entity_id": world.brand, "order_id": world.order,
                 "number": f"T-WO-{n}", "kind": kind, "title": "Work", "status": status}
            )  # fmt: skip
        visits: list[dict] = []
        booked: list[tuple[uuid.UUID, uuid.UUID, bool]] = []
        for n in range(60):
            visit_id = uuid.uuid4()
            starts = PERIOD_START + timedelta(days=n * 2 - 10, hours=rng.randint(7, 10))  # one day each: no overlaps
            status = rng.choice(["done", "done", "done", "planned", "cancelled", "no_show"])
            crew = set(rng.sample(installers, rng.choice([1, 1, 2])))
            arrived = finished = None
            moved("visit", visit_id, None, "planned", starts - timedelta(days=3))
            if status == "done":
                if rng.random() < 0.85:  # some arrivals were never recorded
                    arrived = starts + timedelta(minutes=rng.randint(-20, 60))
                    moved("visit", visit_id, "on_the_way", "on_site", arrived)
                finished = (arrived or starts) + timedelta(minutes=rng.randint(30, 300))
                moved("visit", visit_id, "on_site", "done", finished)
            work_order = rng.choice([w["id"] for w in work_orders] + [None, None])
            history.visits[visit_id] = {
                "status": status, "installers": crew, "starts": starts, "arrived": arrived,
                "finished": finished if arrived is not None else finished, "work_order": work_order,
            }  # fmt: skip
            visits.append(
                {"id": visit_id, "business_entity_id": world.brand, "order_id": world.order,
                 "work_order_id": work_order, "visit_type": "installation", "starts_at": starts,
                 "ends_at": starts + timedelta(hours=4), "status": status}
            )  # fmt: skip
            booked += [(visit_id, i, status != "cancelled") for i in crew]
        await session.execute(insert(WorkOrder), work_orders)
        await session.execute(insert(Visit), visits)
        for visit_id, installer, holds in booked:
            visit = history.visits[visit_id]
            await session.execute(
                text(
                    "INSERT INTO visit_installer (visit_id, installer_contact_id, order_id, during, holds) "
                    "VALUES (:visit_id, :installer_contact_id, :order_id, tstzrange(:s, :e), :holds)"
                ),
                {
                    "visit_id": visit_id,
                    "installer_contact_id": installer,
                    "order_id": world.order,
                    "holds": holds,
                    "s": visit["starts"],
                    "e": visit["starts"] + timedelta(hours=4),
                },
            )
        await session.execute(insert(StatusTransition), transitions)
    return history


@pytest.mark.parametrize("walls", WALLS)
async def test_the_figures_equal_a_recomputation_for_every_installer_and_team(
    client, sessions, field_world: Field, monkeypatch, walls
) -> None:
    knock_down(monkeypatch, walls)
    world = field_world
    installer_org = await make_contact(sessions, "Second Installers", subtype="installer")
    other = (await make_contact(sessions, "Installer X", person=True, parent_id=installer_org.id)).id
    installers = [*world.installers, other]
    history = await generate(sessions, world, installers)
    async with sessions() as session, session.begin():
        team_id = (
            await session.execute(insert(InstallerTeam).values(name="Team 1").returning(InstallerTeam.id))
        ).scalar_one()
        await session.execute(
            insert(InstallerTeamMember), [{"team_id": team_id, "installer_contact_id": i} for i in installers[:2]]
        )

    variables = {"from": PERIOD_START.isoformat(), "to": PERIOD_END.isoformat()}
    report = (await gql(client, REPORT, variables, token=world.tokens["admin"]))["installerPerformance"]
    got = {row["installer"]["id"]: row["figures"] for row in report["installers"]}
    assert set(got) == {gid("Contact", i) for i in installers}
    for installer in installers:
        want = expected(history, {installer})
        figures = got[gid("Contact", installer)]
        assert {k: figures[k] for k in want} == want, installer
        assert figures["onTimeRate"] == (
            want["onTimeArrivals"] / want["arrivalsRecorded"] if want["arrivalsRecorded"] else None
        )
        assert figures["firstTimeFixRate"] == (
            want["firstTimeFixes"] / want["installationsCompleted"] if want["installationsCompleted"] else None
        )
    assert sum(f["visitsDone"] for f in got.values()) >= 20 and sum(f["rework"] for f in got.values()) >= 1
    assert sum(f["installationsCompleted"] for f in got.values()) >= 3
    assert sum(f["firstTimeFixes"] for f in got.values()) < sum(f["installationsCompleted"] for f in got.values())
    [team] = report["teams"]
    assert team["team"]["id"] == gid("InstallerTeam", team_id)
    assert team["figures"] == expected(history, set(installers[:2]))  # a visit counts once for the team

    # the installer organisation's own partner account sees its people only, no teams, and counts
    # what it sees: the visits its people are booked on and the work orders of those visits
    partner = await issue_token(sessions, Role.PARTNER, contact_id=installer_org.id)
    scoped = (await gql(client, REPORT, variables, token=partner))["installerPerformance"]
    assert [row["installer"]["id"] for row in scoped["installers"]] == [gid("Contact", other)]
    seen_visits = {v: visit for v, visit in history.visits.items() if other in visit["installers"]}
    seen = History(
        visits=seen_visits,
        work_orders={
            w: work
            for w, work in history.work_orders.items()
            if any(v["work_order"] == w for v in seen_visits.values())
        },
    )
    want = expected(seen, {other})
    assert {k: scoped["installers"][0]["figures"][k] for k in want} == want and scoped["teams"] == []
    assert want["installationsCompleted"] >= 1
    customer = world.tokens["customer"]
    response = await client.post(
        "/graphql", json={"query": REPORT, "variables": variables}, headers={"Authorization": f"Bearer {customer}"}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
