"""Notifications end to end: templates checked when saved, events of orders told to whom they
concern in their language, through a real SMTP server on localhost and the real worker; an
outage delays but never loses a message, an opt-out stops it and says so, a refused recipient
bounces, one event never tells one address twice, and the log is seen as the policy allows."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select, text

from app.notifications import service as notifications
from app.outbox.models import OutboxEvent
from tests.factories import brand_id, gid
from tests.support.api import CHANGE, HOLD, gql
from tests.support.jobs import all_settled, until, worker
from tests.support.walls import WALLS, knock_down

SAVE = """
mutation ($input: SaveNotificationTemplateInput!) {
  saveNotificationTemplate(input: $input) {
    __typename
    ... on NotificationTemplateSuccess { template { id event language version } }
    ... on TemplateInvalid { code field message unknownVariables }
    ... on UserError { code field message }
  }
}"""

PREFERENCES = """
mutation ($input: SetContactPreferencesInput!) {
  setContactPreferences(input: $input) {
    __typename
    ... on ContactSuccess { contact { language optedOutChannels } }
    ... on UserError { code field message }
  }
}"""

ORDER_LOG = """
query ($id: ID!) {
  node(id: $id) {
    ... on Order {
      communications { event audience recipientAddress language status reason subject attempts lastError
                       providerMessageId templateVersion recipient { displayName } }
    }
  }
}"""

CONTACT_LOG = """
query ($id: ID!) { node(id: $id) { ... on Contact { communications { event status } } } }
"""

LOG = "{ communications(first: 50) { totalCount nodes { event audience status } } }"

HOLD_EN = {
    "subject": "Order {{ order_number }} is on hold",
    "body_text": "Dear {{ recipient_name }},\n\nYour order {{ order_number }} waits: {{ hold_reason }}."
    "\nWe expect to resume on {{ resume_date }}.\n\n{{ brand_name }}",
    "body_html": "<p>Dear {{ recipient_name }}, your order {{ order_number }} waits ({{ hold_reason }}).</p>",
}
HOLD_NL = {
    "subject": "Bestelling {{ order_number }} staat stil",
    "body_text": "Beste {{ recipient_name }},\n\nUw bestelling {{ order_number }} wacht: {{ hold_reason }}.",
}


async def save(client, token, sessions, event: str, language: str, parts: dict[str, str], brand: str = "CC") -> dict:
    variables = {
        "input": {
            "businessEntityId": gid("BusinessEntity", await brand_id(sessions, brand)),
            "event": event,
            "language": language,
            "subject": parts["subject"],
            "bodyText": parts["body_text"],
            "bodyHtml": parts.get("body_html"),
        }
    }
    return (await gql(client, SAVE, variables, token=token))["saveNotificationTemplate"]


async def order_for(create_order, token, contacts, *, customer: str = "Eva de Vries", channel=()) -> dict:
    answer = await create_order(
        token, account=contacts[customer], end_customer=contacts[customer], channel=[contacts[c] for c in channel]
    )
    assert answer["__typename"] == "OrderSuccess", answer
    return answer["order"]


async def hold(client, token, order_id: str, **flags: Any) -> None:
    variables = {
        "input": {
            "orderId": order_id,
            "reasonCategory": "AWAITING_PARTS",
            "estimatedResumeDate": date(2027, 1, 15).isoformat(),
            **flags,
        }
    }
    answer = (await gql(client, HOLD, variables, token=token))["placeOrderOnHold"]
    assert answer["__typename"] == "OrderHoldSuccess", answer


async def log_of(client, token, order_id: str) -> list[dict]:
    return (await gql(client, ORDER_LOG, {"id": order_id}, token=token))["node"]["communications"]


async def test_a_hold_tells_the_customer_once_in_its_language(
    client, sessions, demo, admin_token, create_order, mail, mailing, database_url
) -> None:
    contacts, tokens = demo
    eva = contacts["Eva de Vries"]
    saved = {}
    for language, parts in (("en", HOLD_EN), ("nl", HOLD_NL)):
        answer = await save(client, admin_token, sessions, "order.hold_placed", language, parts)
        assert answer["__typename"] == "NotificationTemplateSuccess", answer
        saved[language] = answer["template"]["version"]  # the demo has its own version 1
    answer = await gql(
        client,
        PREFERENCES,
        {"input": {"contactId": gid("Contact", eva.id), "language": "en"}},
        token=tokens["customer"],
    )
    assert answer["setContactPreferences"]["contact"]["language"] == "en", "a customer sets its own language"
    order = await order_for(create_order, admin_token, contacts)
    await hold(client, admin_token, order["id"], notifyCustomer=True)

    async with mail.running(), worker(database_url, mailing):
        await until(lambda: all_settled(sessions))

    [message] = mail.received()
    assert message.recipient == "eva.devries@example.demo"
    assert message.subject == f"Order {order['number']} is on hold"
    assert "Dear Eva de Vries," in message.text and "awaiting_parts" in message.text
    assert "resume on 2027-01-15" in message.text
    [logged] = await log_of(client, admin_token, order["id"])
    assert logged | {"providerMessageId": None} == {
        "event": "order.hold_placed",
        "audience": "end_customer",
        "recipientAddress": "eva.devries@example.demo",
        "language": "en",
        "status": "SENT",
        "reason": None,
        "subject": message.subject,
        "attempts": 1,
        "lastError": None,
        "providerMessageId": None,
        "templateVersion": saved["en"],
        "recipient": {"displayName": "Eva de Vries"},
    }
    assert logged["providerMessageId"] == str(message.message["Message-ID"])
    contact_log = (await gql(client, CONTACT_LOG, {"id": gid("Contact", eva.id)}, token=tokens["customer"]))["node"]
    assert contact_log["communications"] == [{"event": "order.hold_placed", "status": "SENT"}]

    # the same event again (a dispatch run twice) tells nobody twice
    async with sessions() as session, session.begin():
        event = await session.scalar(select(OutboxEvent).where(OutboxEvent.event_type == "order.hold_placed"))
        await notifications.fan_out(session, event)
        await notifications.fan_out(session, event)
        count = await session.scalar(text("SELECT count(*) FROM communication"))
    assert count == 1


async def test_an_smtp_outage_delays_the_message_and_loses_nothing(
    client, sessions, demo, admin_token, create_order, mail, mailing, database_url
) -> None:
    contacts, _ = demo
    await save(client, admin_token, sessions, "order.hold_placed", "nl", HOLD_NL)
    order = await order_for(create_order, admin_token, contacts)
    await hold(client, admin_token, order["id"], notifyCustomer=True)

    async with worker(database_url, mailing):  # no mail server yet: connections are refused

        async def tried_twice() -> bool:
            logged = await log_of(client, admin_token, order["id"])
            return bool(logged and logged[0]["attempts"] >= 2 and logged[0]["status"] == "QUEUED")

        await until(tried_twice)
        [logged] = await log_of(client, admin_token, order["id"])
        assert logged["lastError"], logged
        async with mail.running():
            await until(lambda: all_settled(sessions))

    [message] = mail.received()
    assert message.subject == f"Bestelling {order['number']} staat stil"
    [logged] = await log_of(client, admin_token, order["id"])
    assert logged["status"] == "SENT" and logged["attempts"] >= 3 and logged["lastError"] is None


async def test_every_attempt_failing_marks_the_message_failed(
    client, sessions, demo, admin_token, create_order, mailing, database_url
) -> None:
    contacts, _ = demo
    await save(client, admin_token, sessions, "order.hold_placed", "nl", HOLD_NL)
    order = await order_for(create_order, admin_token, contacts)
    await hold(client, admin_token, order["id"], notifyCustomer=True)
    async with worker(database_url, mailing, notification_retry_delays=(0.1, 0.1)):
        await until(lambda: all_settled(sessions))
    [logged] = await log_of(client, admin_token, order["id"])
    assert (logged["status"], logged["attempts"]) == ("FAILED", 3)
    assert logged["lastError"]


async def test_an_opted_out_customer_is_not_mailed_and_the_log_says_why(
    client, sessions, demo, admin_token, create_order, mail, mailing, database_url
) -> None:
    contacts, _ = demo
    await save(client, admin_token, sessions, "order.hold_placed", "nl", HOLD_NL)
    variables = {"input": {"contactId": gid("Contact", contacts["Eva de Vries"].id), "optedOutChannels": ["email"]}}
    answer = (await gql(client, PREFERENCES, variables, token=admin_token))["setContactPreferences"]
    assert answer["contact"]["optedOutChannels"] == ["email"]
    order = await order_for(create_order, admin_token, contacts)
    await hold(client, admin_token, order["id"], notifyCustomer=True)
    async with mail.running(), worker(database_url, mailing):
        await until(lambda: all_settled(sessions))
    assert mail.received() == []
    [logged] = await log_of(client, admin_token, order["id"])
    assert (logged["status"], logged["reason"], logged["attempts"]) == ("SUPPRESSED", "opted out of email", 0)


class _Refusing(Mailbox):
    """Refuses one mailbox for good, keeps the rest."""

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list) -> str:
        if address.startswith("info@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


async def test_partners_on_hold_are_told_and_a_refused_mailbox_bounces(
    client, sessions, demo, admin_token, create_order, mail, mailing, database_url, chain
) -> None:
    contacts, _ = demo
    await save(client, admin_token, sessions, "order.hold_placed", "nl", HOLD_NL)
    order = await order_for(create_order, admin_token, contacts, channel=["Snellader Service Haren"])
    await hold(client, admin_token, order["id"], notifyCustomer=True, notifyPartner=True)
    async with mail.running(_Refusing(mail.directory)), worker(database_url, mailing):
        await until(lambda: all_settled(sessions))
    logged = {m["audience"]: m for m in await log_of(client, admin_token, order["id"])}
    assert logged["end_customer"]["status"] == "SENT"
    assert logged["channel"]["status"] == "BOUNCED" and logged["channel"]["attempts"] == 1
    assert "550" in logged["channel"]["lastError"]
    assert [m.recipient for m in mail.received()] == ["eva.devries@example.demo"]


async def test_entering_a_step_tells_whom_the_step_names(
    client, sessions, demo, admin_token, create_order, mail, mailing, database_url
) -> None:
    contacts, _ = demo
    quoted = {"subject": "Uw offerte {{ order_number }}", "body_text": "Status: {{ status_label }}."}
    await save(client, admin_token, sessions, "order.status:quoted", "nl", quoted)
    order = await order_for(create_order, admin_token, contacts)
    answer = await gql(
        client,
        CHANGE,
        {"input": {"entityType": "ORDER", "entityId": order["id"], "toStatus": "quoted"}},
        token=admin_token,
    )
    assert answer["changeStatus"]["__typename"] == "ChangeStatusSuccess"
    async with mail.running(), worker(database_url, mailing):
        await until(lambda: all_settled(sessions))
    [message] = mail.received()
    assert message.subject == f"Uw offerte {order['number']}" and "Status: Quote sent." in message.text
    # the order's creation (intake) tells nobody: its step names no one
    assert [m["event"] for m in await log_of(client, admin_token, order["id"])] == ["order.status:quoted"]


async def test_a_template_is_checked_when_saved(client, sessions, admin_token) -> None:
    typo = await save(
        client, admin_token, sessions, "order.hold_placed", "nl", {"subject": "{{ ordr_number }}", "body_text": "x"}
    )
    assert typo["__typename"] == "TemplateInvalid" and typo["unknownVariables"] == ["ordr_number"]
    broken = await save(
        client, admin_token, sessions, "order.hold_placed", "nl", {"subject": "{{ order_number", "body_text": "x"}
    )
    assert (
        broken["__typename"] == "TemplateInvalid" and broken["unknownVariables"] == [] and broken["field"] == "subject"
    )
    escape = {"subject": "x", "body_text": "{{ order_number.__class__.__mro__ }}"}
    assert (await save(client, admin_token, sessions, "order.hold_placed", "nl", escape))[
        "__typename"
    ] == "TemplateInvalid"
    unknown_event = await save(client, admin_token, sessions, "order.teleported", "nl", HOLD_NL)
    assert (unknown_event["__typename"], unknown_event["field"]) == ("ValidationError", "event")
    german = await save(client, admin_token, sessions, "order.hold_placed", "de", HOLD_NL)
    assert (german["__typename"], german["field"]) == ("ValidationError", "language")
    async with sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM notification_template")) == 0, "nothing refused is kept"

    first = await save(client, admin_token, sessions, "order.hold_placed", "nl", HOLD_NL)
    second = await save(client, admin_token, sessions, "order.hold_placed", "nl", HOLD_NL)
    assert (first["template"]["version"], second["template"]["version"]) == (1, 2)
    english = await save(client, admin_token, sessions, "order.hold_placed", "en", HOLD_EN)
    assert english["template"]["version"] == 1, "each language counts its own versions"


@pytest.mark.parametrize("walls", WALLS)
async def test_who_sees_which_messages(
    client, sessions, demo, admin_token, create_order, mail, mailing, database_url, monkeypatch, walls
) -> None:
    """A partner sees what was told about the orders it may see, never staff's messages; a
    customer only what it was told; with both walls of visibility and with each alone."""
    contacts, tokens = demo
    await save(client, admin_token, sessions, "order.hold_placed", "nl", HOLD_NL)
    async with sessions() as session, session.begin():  # a quote is told to the admins
        await session.execute(
            text(
                'UPDATE status_workflow_step SET notification_settings = \'{"notify": ["staff:admin"]}\' '
                "WHERE status_name = 'quoted'"
            )
        )
    quoted = {"subject": "Offerte {{ order_number }}", "body_text": "x"}
    await save(client, admin_token, sessions, "order.status:quoted", "nl", quoted)
    order = await order_for(create_order, admin_token, contacts, channel=["Snellader Service Haren"])
    await hold(client, admin_token, order["id"], notifyCustomer=True, notifyPartner=True)
    other = await order_for(create_order, admin_token, contacts, channel=["Snellader Service Haren"])
    answer = await gql(
        client,
        CHANGE,
        {"input": {"entityType": "ORDER", "entityId": other["id"], "toStatus": "quoted"}},
        token=admin_token,
    )
    assert answer["changeStatus"]["__typename"] == "ChangeStatusSuccess"
    async with mail.running(), worker(database_url, mailing):
        await until(lambda: all_settled(sessions))

    knock_down(monkeypatch, walls)
    everything = (await gql(client, LOG, token=admin_token))["communications"]
    audiences = sorted(n["audience"] for n in everything["nodes"])
    assert audiences[:2] == ["channel", "end_customer"] and set(audiences[2:]) == {"staff"}
    dealer = (await gql(client, LOG, token=tokens["dealer"]))["communications"]
    assert sorted(n["audience"] for n in dealer["nodes"]) == ["channel", "end_customer"]
    customer = (await gql(client, LOG, token=tokens["customer"]))["communications"]
    assert [n["audience"] for n in customer["nodes"]] == ["end_customer"]
    assert await log_of(client, tokens["dealer"], other["id"]) == [], "staff's messages are staff's"
