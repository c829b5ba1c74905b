"""Subscribers of StatusChanged run inside the change's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app import events
from app.status.engine import StatusChanged
from tests.support.api import change


@pytest.fixture
def subscriber():
    seen: list[StatusChanged] = []
    failing = {"on": False}

    async def handler(session, event: StatusChanged) -> None:
        seen.append(event)
        await session.execute(text("SELECT 1"))  # the handler can use the transaction
        if failing["on"]:
            raise RuntimeError("subscriber failed")

    events.subscribe(StatusChanged, handler)
    yield seen, failing
    events.unsubscribe(StatusChanged, handler)


async def test_subscribers_see_every_change(client, create_order, demo, subscriber) -> None:
    contacts, tokens = demo
    seen, _ = subscriber
    order = (await create_order(tokens["admin"], account=contacts["Groendus"]))["order"]
    await change(client, tokens["admin"], order["id"], "quoted")
    assert [(e.from_status, e.to_status, e.movement.value) for e in seen] == [
        (None, "intake", "initial"),
        ("intake", "quoted", "forward"),
    ]
    assert seen[1].actor.account_id is not None and seen[1].business_entity_id is not None


async def test_a_failing_subscriber_rolls_the_change_back(client, create_order, demo, subscriber, session) -> None:
    contacts, tokens = demo
    _, failing = subscriber
    order = (await create_order(tokens["admin"], account=contacts["Groendus"]))["order"]
    failing["on"] = True
    from tests.support.api import post

    body = (
        await post(
            client,
            "mutation ($i: ChangeStatusInput!) { changeStatus(input: $i) { __typename } }",
            {"i": {"entityType": "ORDER", "entityId": order["id"], "toStatus": "quoted"}},
            token=tokens["admin"],
        )
    ).json()
    assert body["errors"][0]["message"] == "Unexpected error."
    status = (await session.execute(text("SELECT status FROM sales_order"))).scalar_one()
    transitions = (await session.execute(text("SELECT count(*) FROM status_transition"))).scalar_one()
    assert (status, transitions) == ("intake", 1)
