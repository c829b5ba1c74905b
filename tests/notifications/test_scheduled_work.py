"""Scheduled work with a controlled clock: the SLA monitor marks what passed its deadline exactly
as the deadline rule says, escalates each breach once however many runs (also two at once),
and a status change clears the mark; holds escalate once on their date; tasks are staff's;
each run of a schedule is recorded."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from app.escalation import service as escalation
from app.jobs import schedules
from app.jobs.queue import JobContext
from app.numbering.service import BUSINESS_TIMEZONE
from app.serving import worker_process
from tests.support.api import CHANGE, HOLD, gql, gql_errors
from tests.support.jobs import all_settled, fast_env, until, worker

OVERDUE = "{ orders(filter: {overdue: true}) { totalCount nodes { number status { name overdueSince } } } }"
BREACHES = "{ slaBreaches { entityType entityId status slaDeadline overdueSince } }"
TASKS = """
query ($filter: InternalTaskFilterInput) {
  internalTasks(filter: $filter, first: 50) {
    totalCount nodes { id title assigneeRole source aboutEntityType status { name } order { number } }
  }
}"""
CREATE_TASK = """
mutation ($input: CreateInternalTaskInput!) {
  createInternalTask(input: $input) {
    __typename ... on InternalTaskSuccess { task { id title assigneeRole status { name } } }
    ... on UserError { code field }
  }
}"""
JOBS = "{ scheduledJobs { name cron nextRunAt lastRun { outcome detail durationMs } } }"


async def _deadlines(sessions) -> dict[str, datetime]:
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT o.number, c.sla_deadline FROM entity_current_status c JOIN sales_order o ON o.id = c.entity_id "
                "WHERE c.entity_type = 'order'"
            )
        )
        return {row.number: row.sla_deadline for row in rows}


async def _run(sessions, now: datetime) -> escalation.Escalated:
    async with sessions() as session, session.begin():
        return await escalation.monitor(session=session, now=now)


async def _count(sessions, sql: str) -> int:
    async with sessions() as session:
        return int(await session.scalar(text(sql)) or 0)


async def test_the_monitor_marks_exactly_what_the_deadline_rule_says_once(
    client, sessions, demo, admin_token, create_order
) -> None:
    contacts, _ = demo
    orders = [
        (await create_order(admin_token, account=contacts["Eva de Vries"]))["order"] for _ in range(3)
    ]  # intake: 48 h
    deadlines = await _deadlines(sessions)
    deadline = max(deadlines.values())

    # a moment before the latest deadline: the others are overdue, it is not (the rule: deadline < now)
    before = await _run(sessions, deadline)
    assert before.marked == 2
    overdue = (await gql(client, OVERDUE, token=admin_token))["orders"]
    late = {n["number"] for n in overdue["nodes"]}
    assert late == {number for number, d in deadlines.items() if d < deadline}
    assert all(n["status"]["overdueSince"] for n in overdue["nodes"])

    after = await _run(sessions, deadline + timedelta(microseconds=1))
    assert after.marked == 1
    again = await _run(sessions, deadline + timedelta(hours=5))
    assert (again.marked, again.holds) == (0, 0), "a run repeated later finds nothing new"

    breaches = (await gql(client, BREACHES, token=admin_token))["slaBreaches"]
    assert len(breaches) == 3 and {b["status"] for b in breaches} == {"intake"}
    assert all(b["overdueSince"] == b["slaDeadline"] for b in breaches)
    tasks = (await gql(client, TASKS, {"filter": {"source": "SLA_BREACH"}}, token=admin_token))["internalTasks"]
    assert tasks["totalCount"] == 3
    assert {t["order"]["number"] for t in tasks["nodes"]} == set(deadlines)
    assert {(t["assigneeRole"], t["status"]["name"], t["aboutEntityType"]) for t in tasks["nodes"]} == {
        ("staff", "open", "order")
    }
    assert await _count(sessions, "SELECT count(*) FROM outbox_event WHERE event_type = 'order.sla_breached'") == 3

    # a status change clears the mark; the order is then on time in its new status
    answer = await gql(
        client, CHANGE, {"input": {"entityType": "ORDER", "entityId": orders[0]["id"], "toStatus": "quoted"}},
        token=admin_token,
    )  # fmt: skip
    assert answer["changeStatus"]["__typename"] == "ChangeStatusSuccess"
    assert (await gql(client, OVERDUE, token=admin_token))["orders"]["totalCount"] == 2
    assert len((await gql(client, BREACHES, token=admin_token))["slaBreaches"]) == 2


async def test_two_runs_at_once_escalate_each_breach_once(client, sessions, demo, admin_token, create_order) -> None:
    contacts, _ = demo
    for _ in range(8):
        await create_order(admin_token, account=contacts["Eva de Vries"])
    later = max((await _deadlines(sessions)).values()) + timedelta(hours=1)
    results = await asyncio.gather(*(_run(sessions, later) for _ in range(4)))
    assert sum(r.marked for r in results) == 8
    assert await _count(sessions, "SELECT count(*) FROM internal_task") == 8
    assert await _count(sessions, "SELECT count(*) FROM outbox_event WHERE event_type = 'order.sla_breached'") == 8


async def test_a_hold_escalates_once_on_its_date(client, sessions, demo, admin_token, create_order) -> None:
    contacts, _ = demo
    order = (await create_order(admin_token, account=contacts["Eva de Vries"]))["order"]
    today = datetime.now(BUSINESS_TIMEZONE).date()
    escalation_date = today + timedelta(days=2)
    variables = {
        "input": {"orderId": order["id"], "reasonCategory": "AWAITING_PERMIT", "escalationDate": str(escalation_date)}
    }
    assert (await gql(client, HOLD, variables, token=admin_token))["placeOrderOnHold"][
        "__typename"
    ] == "OrderHoldSuccess"

    def at(day: date, hour: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, tzinfo=BUSINESS_TIMEZONE)

    assert (await _run(sessions, at(escalation_date - timedelta(days=1), 23))).holds == 0
    assert (await _run(sessions, at(escalation_date, 0))).holds == 1, "the date has come (in the Netherlands)"
    assert (await _run(sessions, at(escalation_date, 5))).holds == 0, "once"
    tasks = (await gql(client, TASKS, {"filter": {"source": "HOLD_ESCALATION"}}, token=admin_token))["internalTasks"]
    assert [t["order"]["number"] for t in tasks["nodes"]] == [order["number"]]
    assert await _count(sessions, "SELECT count(*) FROM outbox_event WHERE event_type = 'order.hold_escalated'") == 1


async def test_tasks_are_staffs_and_close_through_the_engine(client, sessions, demo, admin_token) -> None:
    _, tokens = demo
    made = (
        await gql(
            client,
            CREATE_TASK,
            {"input": {"title": "Call the grid operator", "assigneeRole": "admin"}},
            token=admin_token,
        )
    )["createInternalTask"]
    assert made["__typename"] == "InternalTaskSuccess" and made["task"]["status"]["name"] == "open"
    refused = await gql(client, CREATE_TASK, {"input": {"title": "x", "assigneeRole": "partner"}}, token=admin_token)
    assert refused["createInternalTask"] == {
        "__typename": "ValidationError",
        "code": "VALIDATION_FAILED",
        "field": "assigneeRole",
    }

    mine = (await gql(client, TASKS, {"filter": {"mine": True, "open": True}}, token=admin_token))["internalTasks"]
    assert [t["title"] for t in mine["nodes"]] == ["Call the grid operator"]
    done = await gql(
        client, CHANGE, {"input": {"entityType": "INTERNAL_TASK", "entityId": made["task"]["id"], "toStatus": "done"}},
        token=admin_token,
    )  # fmt: skip
    assert done["changeStatus"]["__typename"] == "ChangeStatusSuccess"
    assert (await gql(client, TASKS, {"filter": {"mine": True, "open": True}}, token=admin_token))["internalTasks"][
        "totalCount"
    ] == 0

    for viewer in ("dealer", "partner", "customer"):
        errors = await gql_errors(client, TASKS, token=tokens[viewer])
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
        node = await gql(
            client, "query ($id: ID!) { node(id: $id) { id } }", {"id": made["task"]["id"]}, token=tokens[viewer]
        )
        assert node["node"] is None, "a task does not exist for a partner or customer"


async def test_each_run_of_a_schedule_is_recorded(client, sessions, settings, admin_token) -> None:
    [monitor] = [s for s in schedules.registered() if s.name == escalation.MONITOR]
    async with httpx.AsyncClient() as http:
        context = JobContext(sessions, settings, http)
        await schedules.run(context, monitor)
        failing = schedules.Schedule("broken", "0 * * * *", "fails", _fails)
        failed = await schedules.run(context, failing)
    assert (failed.outcome, failed.detail) == ("failed", "RuntimeError: no")
    jobs = {j["name"]: j for j in (await gql(client, JOBS, token=admin_token))["scheduledJobs"]}
    assert jobs[escalation.MONITOR]["cron"] == "0 * * * *"
    assert jobs[escalation.MONITOR]["lastRun"]["outcome"] == "ok"
    assert jobs[escalation.MONITOR]["lastRun"]["detail"] == "0 overdue marked and escalated, 0 holds escalated"
    assert jobs[escalation.MONITOR]["lastRun"]["durationMs"] >= 0
    assert jobs[escalation.MONITOR]["nextRunAt"].endswith(":00:00+00:00")


async def _fails(context: JobContext, now: datetime) -> str:
    raise RuntimeError("no")


async def test_a_breach_is_mailed_to_its_role_through_the_worker(
    client, sessions, demo, admin_token, create_order, mail, mailing, database_url
) -> None:
    """The demo's planner (role staff) is told of an order past its deadline, in Dutch, once."""
    contacts, _ = demo
    order = (await create_order(admin_token, account=contacts["Eva de Vries"]))["order"]
    later = max((await _deadlines(sessions)).values()) + timedelta(minutes=1)
    await _run(sessions, later)
    await _run(sessions, later + timedelta(hours=1))
    async with mail.running(), worker(database_url, mailing):
        await until(lambda: all_settled(sessions))
    [message] = mail.received()
    assert message.recipient == "planner@demo.chargecars.nl"
    assert message.subject == f"Te laat: {order['number']} (Intake)"
    assert "Er staat een taak voor je klaar." in message.text


@pytest.mark.slow
async def test_two_worker_processes_run_each_tick_once(client, sessions, demo, admin_token, create_order, database_url):
    """Every minute instead of every hour: two workers, one run per tick, one escalation."""
    contacts, _ = demo
    await create_order(admin_token, account=contacts["Eva de Vries"])
    async with sessions() as session, session.begin():  # its deadline has passed
        await session.execute(text("UPDATE entity_current_status SET sla_deadline = now() - interval '1 hour'"))
    env = fast_env() | {"CHARGECARS_SLA_MONITOR_CRON": "* * * * *"}
    with worker_process(database_url, **env), worker_process(database_url, **env):
        await until(lambda: _count_ready(sessions), within=90)
        await asyncio.sleep(5)  # the other worker polled the same tick meanwhile
    async with sessions() as session:
        per_tick = (
            await session.execute(
                text(
                    "SELECT name, date_trunc('minute', started_at) AS tick, count(*) AS runs, count(DISTINCT worker) "
                    "FROM schedule_run GROUP BY 1, 2 ORDER BY 2, 1"
                )
            )
        ).all()
    assert per_tick and all(row.runs == 1 for row in per_tick), per_tick
    assert await _count(sessions, "SELECT count(*) FROM internal_task WHERE source = 'sla_breach'") == 1


async def _count_ready(sessions) -> bool:
    return await _count(sessions, "SELECT count(*) FROM schedule_run WHERE outcome = 'ok'") >= 1
