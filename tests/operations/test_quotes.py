"""Quotes: numbered drafts, a sent quote is revised (not edited), acceptance creates the order in
the same transaction, and every way of accepting what may not be accepted is a typed error."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select, text

from app.notifications import service as notifications
from app.notifications.models import Communication
from app.numbering.service import current_year
from app.operations import quotes
from app.operations.models import Quote
from app.orders.models import Order
from app.outbox.models import OutboxEvent
from tests.factories import gid, uid
from tests.operations.conftest import Field
from tests.support.api import CHANGE, gql, gql_errors

QUOTE_FIELDS = """
id number revision validUntil status { name }
accountContact { id } endCustomer { id } channelChain { position contact { id } }
lines { description quantity unitPrice netAmount } totals { net gross }
revisions { revision status { name } } order { id }
"""
CREATE = f"""
mutation ($input: CreateQuoteInput!) {{ createQuote(input: $input) {{
  __typename ... on QuoteSuccess {{ quote {{ {QUOTE_FIELDS} }} }} ... on UserError {{ code field message }}
}} }}"""
UPDATE = """
mutation ($input: UpdateQuoteInput!) { updateQuote(input: $input) {
  __typename ... on QuoteSuccess { quote { lines { description } } }
  ... on QuoteNotEditable { status } ... on UserError { code message }
} }"""
REVISE = f"""
mutation ($id: ID!) {{ reviseQuote(id: $id) {{
  __typename ... on QuoteSuccess {{ quote {{ {QUOTE_FIELDS} }} }}
  ... on QuoteNotEditable {{ status }} ... on UserError {{ code message }}
}} }}"""
ACCEPT = """
mutation ($id: ID!) { acceptQuote(id: $id) {
  __typename
  ... on AcceptQuoteSuccess {
    quote { status { name } order { id } }
    order { id number status { name } accountContact { id } endCustomer { id }
            channelChain { position contact { id } } lines { description quantity unitPrice }
            statusHistory(first: 10) { nodes { toStatus } }
            quotes { revision status { name } } }
  }
  ... on QuoteNotAcceptable { status message } ... on UserError { code message }
} }"""


async def create_quote(client, world: Field, *, token: str | None = None, **extra) -> dict:
    variables = {
        "input": {
            "businessEntityId": gid("BusinessEntity", world.brand),
            "accountContactId": gid("Contact", world.partner),
            "endCustomerContactId": gid("Contact", world.customer),
            "channelContactIds": [gid("Contact", world.partner)],
            "validUntil": (quotes.today() + timedelta(days=30)).isoformat(),
            "lines": [
                {"articleId": gid("Article", world.article), "quantity": "1"},
                {"description": "Cable per metre", "quantity": "12", "unitPrice": "12.35", "vatRate": "21"},
            ],
            **extra,
        }
    }
    result = (await gql(client, CREATE, variables, token=token or world.tokens["staff"]))["createQuote"]
    assert result["__typename"] == "QuoteSuccess", result
    return result["quote"]


async def send(client, world: Field, quote_id: str) -> None:
    variables = {"input": {"entityType": "QUOTE", "entityId": quote_id, "toStatus": "sent"}}
    result = (await gql(client, CHANGE, variables, token=world.tokens["staff"]))["changeStatus"]
    assert result["__typename"] == "ChangeStatusSuccess", result


async def test_a_quote_is_numbered_edited_as_a_draft_and_revised_once_sent(client, field_world: Field) -> None:
    world = field_world
    quote = await create_quote(client, world)
    assert quote["number"] == f"CC-Q-{current_year()}-00001" and quote["revision"] == 1
    assert quote["status"]["name"] == "draft"
    assert [line["netAmount"] for line in quote["lines"]] == ["800.00", "148.20"]
    assert quote["totals"] == {"net": "948.20", "gross": "1147.32"}
    assert quote["channelChain"] == [{"position": 1, "contact": {"id": gid("Contact", world.partner)}}]

    edit = {"id": quote["id"], "lines": [{"articleId": gid("Article", world.article), "quantity": "2"}]}
    edited = (await gql(client, UPDATE, {"input": edit}, token=world.tokens["staff"]))["updateQuote"]
    assert edited == {"__typename": "QuoteSuccess", "quote": {"lines": [{"description": "Test wallbox"}]}}

    await send(client, world, quote["id"])
    refused = (await gql(client, UPDATE, {"input": edit}, token=world.tokens["staff"]))["updateQuote"]
    assert (refused["__typename"], refused["status"], refused["code"]) == (
        "QuoteNotEditable",
        "sent",
        "QUOTE_NOT_EDITABLE",
    )

    revised = (await gql(client, REVISE, {"id": quote["id"]}, token=world.tokens["staff"]))["reviseQuote"]["quote"]
    assert revised["number"] == quote["number"] and revised["revision"] == 2
    assert revised["status"]["name"] == "draft"
    assert revised["revisions"] == [
        {"revision": 1, "status": {"name": "superseded"}},
        {"revision": 2, "status": {"name": "draft"}},
    ]
    assert [line["quantity"] for line in revised["lines"]] == ["2.000"]  # copied as it was sent
    again = (await gql(client, REVISE, {"id": quote["id"]}, token=world.tokens["staff"]))["reviseQuote"]
    assert (again["__typename"], again["status"]) == ("QuoteNotEditable", "superseded")


async def test_accepting_creates_the_order_with_the_quotes_parties_chain_and_lines(
    client, sessions, field_world: Field
) -> None:
    world = field_world
    quote = await create_quote(client, world)
    await send(client, world, quote["id"])
    # the quote's customer accepts it in the customer portal
    result = (await gql(client, ACCEPT, {"id": quote["id"]}, token=world.tokens["customer"]))["acceptQuote"]
    assert result["__typename"] == "AcceptQuoteSuccess", result
    order = result["order"]
    assert result["quote"] == {"status": {"name": "accepted"}, "order": {"id": order["id"]}}
    assert order["accountContact"]["id"] == gid("Contact", world.partner)
    assert order["endCustomer"]["id"] == gid("Contact", world.customer)
    assert order["channelChain"] == quote["channelChain"]
    assert [(x["description"], x["quantity"], x["unitPrice"]) for x in order["lines"]] == [
        (x["description"], x["quantity"], x["unitPrice"]) for x in quote["lines"]
    ]
    assert order["status"]["name"] == "accepted"
    assert [t["toStatus"] for t in order["statusHistory"]["nodes"]] == ["accepted", "quoted", "intake"]
    assert order["quotes"] == [{"revision": 1, "status": {"name": "accepted"}}]

    twice = (await gql(client, ACCEPT, {"id": quote["id"]}, token=world.tokens["staff"]))["acceptQuote"]
    assert twice["__typename"] == "QuoteNotAcceptable" and twice["status"] == "accepted"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 2  # the fixture's and this one


async def test_the_steps_an_accepted_order_walks_through_are_not_told(client, sessions, field_world: Field) -> None:
    """The order walks intake → quoted → accepted at once: "quoted" is in its history and its
    events, but its customer is not told a quote was sent after accepting it."""
    world = field_world
    quote = await create_quote(client, world)
    await send(client, world, quote["id"])
    order = (await gql(client, ACCEPT, {"id": quote["id"]}, token=world.tokens["customer"]))["acceptQuote"]["order"]
    async with sessions() as session:
        events = {
            e.payload["toStatus"]: e
            for e in await session.scalars(
                select(OutboxEvent).where(OutboxEvent.order_id == uid(order["id"]), OutboxEvent.entity_type == "order")
            )
            if "toStatus" in e.payload
        }
    assert events["quoted"].payload["passedThrough"] is True and "passedThrough" not in events["accepted"].payload
    async with sessions() as session, session.begin():
        await notifications.fan_out(session, events["quoted"])  # told nothing
        told = await session.scalar(select(func.count()).select_from(Communication))
        assert told == 0
        # the same event, not passed through: the end customer is told (no template here: suppressed)
        events["quoted"].payload = {k: v for k, v in events["quoted"].payload.items() if k != "passedThrough"}
        await notifications.fan_out(session, events["quoted"])
        assert await session.scalar(select(func.count()).select_from(Communication)) >= 1
        await session.rollback()


async def test_expired_superseded_draft_and_unseen_quotes_are_not_accepted_and_nothing_is_created(
    client, sessions, field_world: Field
) -> None:
    world = field_world
    draft = await create_quote(client, world)
    refused = (await gql(client, ACCEPT, {"id": draft["id"]}, token=world.tokens["staff"]))["acceptQuote"]
    assert refused["__typename"] == "QuoteNotAcceptable" and refused["status"] == "draft"

    await send(client, world, draft["id"])
    await gql(client, REVISE, {"id": draft["id"]}, token=world.tokens["staff"])
    superseded = (await gql(client, ACCEPT, {"id": draft["id"]}, token=world.tokens["staff"]))["acceptQuote"]
    assert superseded["__typename"] == "QuoteNotAcceptable" and superseded["status"] == "superseded"

    late = await create_quote(client, world)
    await send(client, world, late["id"])
    async with sessions() as session, session.begin():  # its validity date passed (the API refuses past dates)
        await session.execute(
            text("UPDATE quote SET valid_until = current_date - 1 WHERE number = :n AND revision = 1"),
            {"n": late["number"]},
        )
    expired = (await gql(client, ACCEPT, {"id": late["id"]}, token=world.tokens["staff"]))["acceptQuote"]
    assert expired["__typename"] == "QuoteNotAcceptable" and expired["status"] == "expired"

    # a partner outside the quote's parties: it does not exist
    other = await create_quote(client, world)
    await send(client, world, other["id"])
    unseen = (await gql(client, ACCEPT, {"id": other["id"]}, token=world.tokens["outsider"]))["acceptQuote"]
    assert unseen["__typename"] == "NotFound"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 1  # the fixture's only

    # the daily job expires what passed its date, and only that
    async with sessions() as session, session.begin():
        assert await quotes.expire(session=session, as_of=quotes.today()) == 1
    async with sessions() as session:
        statuses = dict((await session.execute(select(Quote.number, Quote.status).where(Quote.revision == 1))).all())
    assert statuses[late["number"]] == "expired" and statuses[other["number"]] == "sent"


async def test_acceptance_is_one_transaction_a_failure_leaves_the_quote_sent_and_no_order(
    client, sessions, field_world: Field
) -> None:
    world = field_world
    quote = await create_quote(client, world)
    await send(client, world, quote["id"])
    async with sessions() as session, session.begin():  # its article stopped being sold after it was sent
        await session.execute(text("UPDATE article SET is_active = false WHERE id = :a"), {"a": world.article})
    result = (await gql(client, ACCEPT, {"id": quote["id"]}, token=world.tokens["staff"]))["acceptQuote"]
    assert result["__typename"] == "ValidationError" and "no longer sold" in result["message"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 1
        assert await session.scalar(select(Quote.status).where(Quote.number == quote["number"])) == "sent"
        numbers = await session.scalar(
            text("SELECT last_value FROM number_sequence WHERE document_type = 'order' AND business_entity_id = :b"),
            {"b": world.brand},
        )
    assert numbers == 1  # the order number went back with the rollback


async def test_a_plain_status_change_cannot_accept_a_quote(client, field_world: Field) -> None:
    world = field_world
    quote = await create_quote(client, world)
    await send(client, world, quote["id"])
    variables = {"input": {"entityType": "QUOTE", "entityId": quote["id"], "toStatus": "accepted"}}
    result = (await gql(client, CHANGE, variables, token=world.tokens["admin"]))["changeStatus"]
    assert result["__typename"] == "ValidationError" and "acceptQuote" in result["message"]


async def test_two_acceptances_at_once_make_one_order(client, sessions, field_world: Field) -> None:
    world = field_world
    quote = await create_quote(client, world)
    await send(client, world, quote["id"])
    results = await asyncio.gather(
        *(gql(client, ACCEPT, {"id": quote["id"]}, token=world.tokens["staff"]) for _ in range(6))
    )
    kinds = sorted(r["acceptQuote"]["__typename"] for r in results)
    assert kinds == ["AcceptQuoteSuccess"] + ["QuoteNotAcceptable"] * 5
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 2


async def test_quote_input_is_checked(client, field_world: Field) -> None:
    world = field_world
    base = {
        "businessEntityId": gid("BusinessEntity", world.brand),
        "accountContactId": gid("Contact", world.partner),
        "validUntil": (quotes.today() + timedelta(days=30)).isoformat(),
        "lines": [{"articleId": gid("Article", world.article), "quantity": "1"}],
    }
    for change, field in (
        ({"lines": []}, "lines"),
        ({"validUntil": (quotes.today() - timedelta(days=1)).isoformat()}, "validUntil"),
        ({"validUntil": (quotes.today() + timedelta(days=400)).isoformat()}, "validUntil"),
        ({"lines": [{"description": "x", "quantity": "0", "unitPrice": "1", "vatRate": "21"}]}, "quantity"),
        ({"accountContactId": gid("Contact", world.customer)}, "accountContactId"),
    ):
        result = (await gql(client, CREATE, {"input": {**base, **change}}, token=world.tokens["staff"]))["createQuote"]
        assert result["__typename"] == "ValidationError" and result["field"] == field, (change, result)
    errors = await gql_errors(client, CREATE, {"input": base}, token=world.tokens["partner"])
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
