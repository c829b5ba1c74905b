"""createOrder: contacts in their roles, the chain, typed errors, who may create."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from tests.factories import brand_id, gid, make_contact
from tests.support.api import CREATE_ORDER, gql, gql_errors


async def order_count(session) -> int:
    return (await session.execute(text("SELECT count(*) FROM sales_order"))).scalar_one()


async def test_the_chain_keeps_its_order(create_order, demo, chain, session) -> None:
    contacts, tokens = demo
    result = await create_order(
        tokens["admin"],
        account=chain[0],
        end_customer=contacts["Eva de Vries"],
        channel=list(reversed(chain)),
        notes="  Wallbox in garage  ",
    )
    assert [e["contact"]["displayName"] for e in result["order"]["channelChain"]] == [
        c.display_name for c in reversed(chain)
    ]
    assert (await session.execute(text("SELECT notes FROM sales_order"))).scalar_one() == "Wallbox in garage"
    audit = (await session.execute(text("SELECT action FROM audit_log ORDER BY occurred_at"))).scalars().all()
    assert audit[-2:] == ["order.create", "status.change"]


async def test_input_errors_write_nothing(create_order, demo, sessions, session) -> None:
    contacts, tokens = demo
    admin = tokens["admin"]
    lone = await make_contact(sessions, "Lone Person", person=True)
    cases = [
        (dict(account=lone), "ValidationError", "accountContactId"),
        (
            dict(account=contacts["Groendus"], channel=[contacts["Groendus"], contacts["Groendus"]]),
            "ValidationError",
            "channelContactIds",
        ),
        (dict(account=contacts["Groendus"], channel=[lone]), "ValidationError", "channelContactIds"),
        (dict(account=contacts["Groendus"], notes="x" * 5001), "ValidationError", "notes"),
    ]
    for kwargs, typename, field in cases:
        result = await create_order(admin, **kwargs)
        assert (result["__typename"], result["field"]) == (typename, field), kwargs
    ghost = type("Ghost", (), {"id": uuid.uuid4()})
    for kwargs, field in [
        (dict(account=ghost), "accountContactId"),
        (dict(account=contacts["Groendus"], end_customer=ghost), "endCustomerContactId"),
        (dict(account=contacts["Groendus"], channel=[ghost]), "channelContactIds"),
    ]:
        result = await create_order(admin, **kwargs)
        assert (result["__typename"], result["field"]) == ("NotFound", field)
    assert await order_count(session) == 0
    assert (await session.execute(text("SELECT sum(last_value) FROM number_sequence"))).scalar_one() == 0


async def test_a_wrong_brand_id_is_a_validation_error(client, demo, session) -> None:
    contacts, tokens = demo
    variables = {
        "input": {
            "businessEntityId": gid("BusinessEntity", uuid.uuid4()),
            "accountContactId": gid("Contact", contacts["Groendus"].id),
        }
    }
    result = (await gql(client, CREATE_ORDER, variables, token=tokens["admin"]))["createOrder"]
    assert (result["__typename"], result["field"]) == ("ValidationError", "businessEntityId")


async def test_a_partner_creates_orders_with_its_organisation_in_the_chain(create_order, demo, chain) -> None:
    contacts, tokens = demo
    dealer = tokens["dealer"]  # Sanne Bakker of Snellader Service Haren
    ok = await create_order(dealer, account=chain[0], end_customer=contacts["Eva de Vries"], channel=chain[:2])
    assert ok["__typename"] == "OrderSuccess"
    refused = await create_order(dealer, account=chain[0], channel=[chain[0]])
    assert (refused["__typename"], refused["code"]) == ("PermissionDenied", "PERMISSION_DENIED")
    # a contact outside what the dealer sees does not exist for it
    hidden = await create_order(dealer, account=contacts["Groendus"], channel=[chain[1]])
    assert (hidden["__typename"], hidden["field"]) == ("NotFound", "accountContactId")


async def test_customers_cannot_create_orders(client, demo, sessions) -> None:
    contacts, tokens = demo
    variables = {
        "input": {
            "businessEntityId": gid("BusinessEntity", await brand_id(sessions, "CC")),
            "accountContactId": gid("Contact", contacts["Eva de Vries"].id),
        }
    }
    errors = await gql_errors(client, CREATE_ORDER, variables, token=tokens["customer"])
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_brand_without_an_active_order_workflow_is_a_typed_error(create_order, demo, sessions) -> None:
    contacts, tokens = demo
    # the workflows are reference data, kept between tests: switched off for this one only
    switch_off = "UPDATE status_workflow SET is_active = false WHERE entity_type = 'order' AND is_active RETURNING id"
    async with sessions() as session, session.begin():
        switched = (await session.execute(text(switch_off))).scalars().all()
    try:
        result = await create_order(tokens["admin"], account=contacts["Groendus"])
    finally:
        async with sessions() as session, session.begin():
            await session.execute(
                text("UPDATE status_workflow SET is_active = true WHERE id = ANY(:ids)"), {"ids": list(switched)}
            )
    assert (result["__typename"], result["code"], result["field"]) == ("NoWorkflow", "NO_WORKFLOW", "entityType")
    async with sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM sales_order"))).scalar_one() == 0
