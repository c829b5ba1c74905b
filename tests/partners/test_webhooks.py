"""Status sync out: outbox rows in the changing transaction, webhooks delivered by a real worker
to a real HTTP receiver, signed, retried, dead-lettered, redelivered."""

from __future__ import annotations

import orjson
from sqlalchemy import text

from app.access.policy import STAFF
from app.audit.service import SYSTEM
from app.orders import service as orders
from app.partners.webhooks import SIGNATURE_HEADER, verify
from app.status import engine
from app.status.models import EntityType
from tests.factories import brand_id
from tests.partners.receiver import receiving
from tests.partners.support import INTAKE, UPDATE_INTEGRATION, order_input
from tests.support.api import change, gql
from tests.support.jobs import all_settled, until, worker

DELIVERIES = """
query ($filter: WebhookDeliveryFilterInput) {
  webhookDeliveries(filter: $filter, first: 50) {
    totalCount
    nodes { id eventId eventType status attempts lastError body attemptLog { attempt statusCode error } }
  }
}"""

REDELIVER = """
mutation ($id: ID!) { redeliverWebhook(id: $id) { __typename ... on WebhookDeliverySuccess { delivery { status } } } }
"""


async def test_events_arrive_signed_despite_failures_and_timeouts(
    client, sessions, database_url, settings, essent, admin_token
) -> None:
    setup, dealer = essent
    async with receiving(script=["500", "503", "timeout"]) as receiver:
        integration = await setup(receiver.url)
        secret = integration["signingSecret"]
        order = (await gql(client, INTAKE, {"input": order_input()}, token=dealer))["createOrderFromPartner"]["order"]
        assert (await change(client, admin_token, order["id"], "quoted"))["__typename"] == "ChangeStatusSuccess"

        async with worker(database_url, settings):

            async def both_arrived() -> bool:
                delivered = {orjson.loads(r.body)["id"] for r in receiver.received if r.body}
                return len(delivered) == 2 and not receiver.script

            await until(both_arrived)
            await until(lambda: all_settled(sessions))

    bodies = [orjson.loads(r.body) for r in receiver.received]
    for request in receiver.received:
        assert verify(secret, request.headers[SIGNATURE_HEADER.lower()], request.body)
        assert not verify("whsec_wrong", request.headers[SIGNATURE_HEADER.lower()], request.body)
    assert {b["type"] for b in bodies} == {"order.created", "order.status_changed"}
    created = [b for b in bodies if b["type"] == "order.created"]
    assert len({b["id"] for b in created}) == 1, "a retried event keeps its id"
    changed = next(b for b in bodies if b["type"] == "order.status_changed")
    assert changed["sequence"] > created[0]["sequence"]
    assert changed["order"]["partnerOrderReference"] == "ESS-1001"
    assert changed["data"]["toStatus"] == "quoted"

    log = (await gql(client, DELIVERIES, token=dealer))["webhookDeliveries"]
    assert log["totalCount"] == 2 and {d["status"] for d in log["nodes"]} == {"DELIVERED"}
    attempts = sorted(
        [(a["statusCode"], a["error"]) for d in log["nodes"] for a in d["attemptLog"]], key=lambda a: a[0] or 0
    )
    assert (500, "HTTP 500") in attempts and (503, "HTTP 503") in attempts and (None, "timed out") in attempts
    assert [a[0] for a in attempts].count(200) == 2

    # the partner's view of its order: the status it heard last, in its own words
    answer = await gql(client, INTAKE, {"input": order_input()}, token=dealer)  # a replay reads the order back
    reference = answer["createOrderFromPartner"]["order"]["partnerReference"]
    assert reference["lastKnownStatus"] == "OFFERTE" and reference["lastSyncError"] is None


async def test_every_attempt_failing_dead_letters_and_staff_redeliver(
    client, sessions, database_url, settings, essent, admin_token
) -> None:
    setup, dealer = essent
    async with receiving(script=["500"] * 8) as receiver:
        await setup(receiver.url)
        await gql(client, INTAKE, {"input": order_input()}, token=dealer)
        async with worker(database_url, settings):
            await until(lambda: all_settled(sessions))
            log = (await gql(client, DELIVERIES, token=admin_token))["webhookDeliveries"]["nodes"]
            assert [(d["status"], d["attempts"]) for d in log] == [("DEAD", 8)]
            assert len(receiver.received) == 8

            answer = await gql(client, REDELIVER, {"id": log[0]["id"]}, token=admin_token)
            assert answer["redeliverWebhook"]["__typename"] == "WebhookDeliverySuccess"
            await until(lambda: all_settled(sessions))

    log = (await gql(client, DELIVERIES, token=admin_token))["webhookDeliveries"]["nodes"]
    assert [(d["status"], d["attempts"]) for d in log] == [("DELIVERED", 9)]
    assert len({orjson.loads(r.body)["id"] for r in receiver.received}) == 1


async def test_a_rolled_back_change_leaves_no_event_and_a_committed_one_its_event_and_job(sessions, demo) -> None:
    contacts, _ = demo
    brand = await brand_id(sessions, "CC")
    async with sessions() as session:
        async with session.begin():
            order = await orders.create(
                session=session,
                order_in=orders.OrderCreate(
                    business_entity_id=brand, account_contact_id=contacts["Voltara Regio Zuid"].id
                ),
                actor=SYSTEM,
                viewer=STAFF,
            )
        async with session.begin():
            await engine.change_status(
                session=session,
                entity_type=EntityType.ORDER.value,
                entity_id=order.id,
                to_status="quoted",
                actor=SYSTEM,
            )
            await session.rollback()

    async with sessions() as session:
        events = (await session.execute(text("SELECT event_type FROM outbox_event ORDER BY id"))).scalars().all()
        jobs = await session.scalar(text("SELECT count(*) FROM pgqueuer WHERE entrypoint = 'outbox.dispatch'"))
    assert events == ["order.created"]
    assert jobs == 1


async def test_an_unsubscribed_or_unseeing_partner_hears_nothing(
    client, sessions, database_url, settings, essent, admin_token
) -> None:
    setup, dealer = essent
    async with receiving() as receiver:
        integration = await setup(receiver.url)
        await gql(
            client,
            UPDATE_INTEGRATION,
            {"input": {"id": integration["integration"]["id"], "events": ["order.hold_placed"]}},
            token=admin_token,
        )
        await gql(client, INTAKE, {"input": order_input()}, token=dealer)
        async with worker(database_url, settings):
            await until(lambda: all_settled(sessions))
    assert receiver.received == []
