"""Sequential, gapless order numbers, allocated inside the creating transaction."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from app.numbering import service as numbering
from app.numbering.errors import NumberingNotConfigured
from app.numbering.service import DocumentType, current_year
from app.status import engine
from tests.factories import brand_id, gid
from tests.support.api import CREATE_ORDER, post


async def test_the_first_order_of_a_brand(create_order, demo, chain) -> None:
    contacts, tokens = demo
    result = await create_order(tokens["admin"], account=chain[0], end_customer=contacts["Eva de Vries"], channel=chain)
    assert result["order"]["number"] == f"CC-{current_year()}-00001"
    other = await create_order(tokens["admin"], brand="LT", account=contacts["Eneco"])
    assert other["order"]["number"] == f"LT-{current_year()}-00001"


async def test_200_concurrent_creations_get_200_consecutive_numbers(create_order, demo, session) -> None:
    contacts, tokens = demo
    results = await asyncio.gather(*(create_order(tokens["admin"], account=contacts["Groendus"]) for _ in range(200)))
    assert [r for r in results if r["__typename"] != "OrderSuccess"] == []
    numbers = sorted(r["order"]["number"] for r in results)
    assert numbers == [f"CC-{current_year()}-{n:05d}" for n in range(1, 201)]
    stored = (await session.execute(text("SELECT count(DISTINCT number) FROM sales_order"))).scalar_one()
    assert stored == 200


async def test_a_creation_that_fails_after_taking_a_number_leaves_no_gap(
    client, create_order, demo, sessions, session, monkeypatch
) -> None:
    contacts, tokens = demo
    first = await create_order(tokens["admin"], account=contacts["Groendus"])

    async def fail(**kwargs):
        raise RuntimeError("failure after the number was taken")

    variables = {
        "input": {
            "businessEntityId": gid("BusinessEntity", await brand_id(sessions, "CC")),
            "accountContactId": gid("Contact", contacts["Groendus"].id),
        }
    }
    with monkeypatch.context() as patch:
        patch.setattr(engine, "initialize", fail)
        body = (await post(client, CREATE_ORDER, variables, token=tokens["admin"])).json()
    assert body["errors"][0]["message"] == "Unexpected error."
    assert (await session.execute(text("SELECT count(*) FROM sales_order"))).scalar_one() == 1

    second = await create_order(tokens["admin"], account=contacts["Groendus"])
    assert first["order"]["number"] == f"CC-{current_year()}-00001"
    assert second["order"]["number"] == f"CC-{current_year()}-00002"


async def test_a_new_year_starts_its_own_series(sessions) -> None:
    brand = await brand_id(sessions, "CC")
    async with sessions() as session, session.begin():
        this_year = await numbering.allocate(
            session=session, business_entity_id=brand, document_type=DocumentType.INVOICE
        )
        next_year = await numbering.allocate(
            session=session, business_entity_id=brand, document_type=DocumentType.INVOICE, year=current_year() + 1
        )
        again = await numbering.allocate(
            session=session, business_entity_id=brand, document_type=DocumentType.INVOICE, year=current_year() + 1
        )
    assert this_year == f"CC-F-{current_year()}-00001"
    assert (next_year, again) == (f"CC-F-{current_year() + 1}-00001", f"CC-F-{current_year() + 1}-00002")


async def test_a_rollback_returns_the_number(sessions) -> None:
    brand = await brand_id(sessions, "MKT")
    async with sessions() as session:
        async with session.begin():
            taken = await numbering.allocate(
                session=session, business_entity_id=brand, document_type=DocumentType.QUOTE
            )
            await session.rollback()
    async with sessions() as session, session.begin():
        again = await numbering.allocate(session=session, business_entity_id=brand, document_type=DocumentType.QUOTE)
    assert taken == again == f"MKT-Q-{current_year()}-00001"


async def test_a_brand_without_the_series_is_refused(sessions) -> None:
    brand = await brand_id(sessions, "ZS")
    async with sessions() as session:
        with pytest.raises(NumberingNotConfigured) as caught:
            await numbering.allocate(session=session, business_entity_id=brand, document_type=DocumentType.WORK_ORDER)
    assert caught.value.field == "business_entity_id"
