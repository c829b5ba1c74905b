"""Work orders: numbered, completed only when the checklist and the installation record are in,
the last installation completed moves the order on; seal numbers are used once (also under
concurrency); extra work becomes order lines under the order's line lock."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from app.numbering.service import current_year
from app.operations.models import SealUsage
from tests.factories import brand_id, gid
from tests.operations.conftest import Field, make_order
from tests.support.api import CHANGE, gql, walk

CREATE = """
mutation ($input: CreateWorkOrderInput!) { createWorkOrder(input: $input) {
  __typename ... on WorkOrderSuccess { workOrder { id number kind status { name } tasks { id description done } } }
  ... on UserError { code field message }
} }"""
TICK = """
mutation ($task: ID!, $done: Boolean!) { setWorkOrderTaskDone(taskId: $task, done: $done) {
  __typename ... on WorkOrderSuccess { workOrder { tasks { done } } } ... on UserError { code message }
} }"""
INSTALLATION = """
mutation ($input: RecordInstallationInput!) { recordInstallation(input: $input) {
  __typename ... on WorkOrderSuccess { workOrder { installation { serialNumber testsPassed meterReadingKwh } } }
  ... on UserError { code field message }
} }"""
SEALS = """
mutation ($input: RecordSealsInput!) { recordSeals(input: $input) {
  __typename ... on WorkOrderSuccess { workOrder { seals { sealNumber action } } }
  ... on SealAlreadyUsed { sealNumber action } ... on UserError { code field message }
} }"""
EXTRA = """
mutation ($input: AddExtraWorkInput!) { addExtraWork(input: $input) {
  __typename ... on ExtraWorkSuccess { lines { description netAmount } workOrder { extraLines { description } } }
  ... on UserError { code message }
} }"""
COMPLETE = """
mutation ($id: ID!, $to: String!) { changeStatus(input: {entityType: WORK_ORDER, entityId: $id, toStatus: $to}) {
  __typename ... on WorkOrderIncomplete { missing code } ... on UserError { code message }
  ... on ChangeStatusSuccess { transition { movement } }
} }"""
ORDER = """
query ($id: ID!) { order(id: $id) { status { name } lines { description }
  statusHistory(first: 10) { nodes { toStatus triggeredBy } }
  workOrders { number status { name } } } }"""


def record(work_order_id: str, passed: bool = True) -> dict:
    return {
        "input": {
            "workOrderId": work_order_id,
            "chargerMake": "Alfen",
            "chargerModel": "Eve Single",
            "serialNumber": "ACE1",
            "meterReadingKwh": "1234.5",
            "earthResistanceOhm": "0.40",
            "insulationResistanceMohm": "200",
            "rcdTripTimeMs": "20.5",
            "testsPassed": passed,
        }
    }


async def create(client, world: Field, order_id, kind: str = "INSTALLATION", tasks=("Mount", "Test")) -> dict:
    variables = {"input": {"orderId": gid("Order", order_id), "kind": kind, "title": "Install", "tasks": list(tasks)}}
    return (await gql(client, CREATE, variables, token=world.tokens["staff"]))["createWorkOrder"]


async def test_completing_needs_the_checklist_and_record_and_moves_the_order_to_installed(
    client, field_world: Field
) -> None:
    world = field_world
    staff = world.tokens["staff"]
    order = gid("Order", world.order)
    await walk(client, world.tokens["admin"], order, ["quoted", "accepted"])
    first = (await create(client, world, world.order))["workOrder"]
    second = (await create(client, world, world.order, tasks=()))["workOrder"]
    assert first["number"] == f"CC-WO-{current_year()}-00001" and second["number"].endswith("00002")
    assert first["status"]["name"] == "open"

    await gql(client, COMPLETE, {"id": first["id"], "to": "in_progress"}, token=staff)
    refused = (await gql(client, COMPLETE, {"id": first["id"], "to": "completed"}, token=staff))["changeStatus"]
    assert refused["__typename"] == "WorkOrderIncomplete" and refused["code"] == "WORK_ORDER_INCOMPLETE"
    assert refused["missing"] == [
        "task 1 (Mount) is not done",
        "task 2 (Test) is not done",
        "the installation is not recorded",
    ]
    for task in first["tasks"]:
        await gql(client, TICK, {"task": task["id"], "done": True}, token=staff)
    failed = (await gql(client, INSTALLATION, record(first["id"], passed=False), token=staff))["recordInstallation"]
    assert failed["workOrder"]["installation"]["testsPassed"] is False
    refused = (await gql(client, COMPLETE, {"id": first["id"], "to": "completed"}, token=staff))["changeStatus"]
    assert refused["missing"] == ["the installation's tests did not pass"]
    await gql(client, INSTALLATION, record(first["id"]), token=staff)
    done = (await gql(client, COMPLETE, {"id": first["id"], "to": "completed"}, token=staff))["changeStatus"]
    assert done["__typename"] == "ChangeStatusSuccess"
    # another installation is still open: the order stays
    assert (await gql(client, ORDER, {"id": order}, token=staff))["order"]["status"]["name"] == "accepted"

    await gql(client, COMPLETE, {"id": second["id"], "to": "in_progress"}, token=staff)
    await gql(client, INSTALLATION, record(second["id"]), token=staff)
    await gql(client, COMPLETE, {"id": second["id"], "to": "completed"}, token=staff)
    found = (await gql(client, ORDER, {"id": order}, token=staff))["order"]
    assert found["status"]["name"] == "installed"
    assert [t["toStatus"] for t in found["statusHistory"]["nodes"]][:3] == ["installed", "installing", "scheduled"]
    # once completed, the work is as recorded: reopen it to record more
    late = await gql(client, TICK, {"task": first["tasks"][0]["id"], "done": False}, token=staff)
    assert late["setWorkOrderTaskDone"]["__typename"] == "ValidationError"


async def test_a_brand_without_a_work_order_series_gets_a_typed_error(client, sessions, field_world: Field) -> None:
    world = field_world
    shop_order = await make_order(sessions, world, brand=await brand_id(sessions, "ZS"))
    result = await create(client, world, shop_order)
    assert result["__typename"] == "NumberingNotConfigured"


async def test_a_seal_number_is_placed_once_and_removed_once(client, sessions, field_world: Field) -> None:
    world = field_world
    staff = world.tokens["staff"]
    first = (await create(client, world, world.order))["workOrder"]["id"]
    second = (await create(client, world, world.order))["workOrder"]["id"]
    placed = {"input": {"workOrderId": first, "removed": ["gs-1"], "placed": ["cc-1", "CC-2"]}}
    result = (await gql(client, SEALS, placed, token=staff))["recordSeals"]
    assert result["workOrder"]["seals"] == [
        {"sealNumber": "CC-1", "action": "PLACED"},
        {"sealNumber": "CC-2", "action": "PLACED"},
        {"sealNumber": "GS-1", "action": "REMOVED"},
    ]
    again = {"input": {"workOrderId": second, "placed": ["CC-3", "cc-2"]}}
    refused = (await gql(client, SEALS, again, token=staff))["recordSeals"]
    assert (refused["__typename"], refused["sealNumber"], refused["action"]) == ("SealAlreadyUsed", "CC-2", "placed")
    # removing a seal that was placed is its second (and last) use
    removed = {"input": {"workOrderId": second, "removed": ["CC-1"]}}
    assert (await gql(client, SEALS, removed, token=staff))["recordSeals"]["__typename"] == "WorkOrderSuccess"
    twice = {"input": {"workOrderId": second, "placed": ["CC-9", "cc-9"]}}
    assert (await gql(client, SEALS, twice, token=staff))["recordSeals"]["__typename"] == "ValidationError"

    # two work orders placing the same new seal at once: one of them
    results = await asyncio.gather(
        *(
            gql(client, SEALS, {"input": {"workOrderId": w, "placed": ["CC-100"]}}, token=staff)
            for w in (first, second) * 3
        )
    )
    kinds = sorted(r["recordSeals"]["__typename"] for r in results)
    assert kinds == ["SealAlreadyUsed"] * 5 + ["WorkOrderSuccess"]
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(SealUsage).where(SealUsage.seal_number == "CC-100")
        )
    assert count == 1


async def test_extra_work_becomes_order_lines_under_the_line_lock(client, field_world: Field) -> None:
    world = field_world
    staff, admin = world.tokens["staff"], world.tokens["admin"]
    work_order = (await create(client, world, world.order))["workOrder"]["id"]
    extra = {
        "input": {
            "workOrderId": work_order,
            "lines": [{"description": "Extra cable duct", "quantity": "2", "unitPrice": "25.00", "vatRate": "21"}],
        }
    }
    added = (await gql(client, EXTRA, extra, token=staff))["addExtraWork"]
    assert added["lines"] == [{"description": "Extra cable duct", "netAmount": "50.00"}]
    assert added["workOrder"]["extraLines"] == [{"description": "Extra cable duct"}]
    order = (await gql(client, ORDER, {"id": gid("Order", world.order)}, token=staff))["order"]
    assert [line["description"] for line in order["lines"]] == ["Test wallbox", "Extra cable duct"]

    variables = {"input": {"entityType": "ORDER", "entityId": gid("Order", world.order), "toStatus": "cancelled"}}
    assert (await gql(client, CHANGE, variables, token=admin))["changeStatus"]["__typename"] == "ChangeStatusSuccess"
    locked = (await gql(client, EXTRA, extra, token=staff))["addExtraWork"]
    assert locked["__typename"] == "OrderLocked"
