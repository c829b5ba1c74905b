"""createContact and updateContact: rules, typed errors, nothing written on bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from strawberry import relay

from app.accounts.models import Role
from tests.factories import gid, issue_token, make_contact
from tests.support.api import gql, gql_errors

CREATE = """
mutation ($input: CreateContactInput!) {
  createContact(input: $input) {
    __typename
    ... on ContactSuccess { contact { id displayName contactType email commissionRate parent { displayName }
    businessEntity { code } } }
    ... on UserError { code message field }
  }
}
"""
UPDATE = """
mutation ($input: UpdateContactInput!) {
  updateContact(input: $input) {
    __typename
    ... on ContactSuccess { contact { id displayName email phone parent { displayName } updatedAt } }
    ... on UserError { code message field }
  }
}
"""


async def contact_count(session) -> int:
    return (await session.execute(text("SELECT count(*) FROM contact"))).scalar_one()


async def test_create_person_derives_the_display_name(client, admin_token, sessions, session) -> None:
    org = await make_contact(sessions, "Laadpunt BV")
    brand = (await session.execute(text("SELECT id FROM business_entity WHERE code = 'LT'"))).scalar_one()
    data = await gql(
        client,
        CREATE,
        {
            "input": {
                "contactType": "PERSON",
                "firstName": " Jan ",
                "lastName": "de Boer",
                "email": "Jan.deBoer@Example.COM",
                "parentId": gid("Contact", org.id),
                "businessEntityId": str(relay.GlobalID("BusinessEntity", str(brand))),
            }
        },
        token=admin_token,
    )
    contact = data["createContact"]["contact"]
    assert contact["displayName"] == "Jan de Boer"
    assert contact["contactType"] == "PERSON"
    assert contact["email"] == "Jan.deBoer@example.com"  # the domain is normalised
    assert contact["parent"] == {"displayName": "Laadpunt BV"}
    assert contact["businessEntity"] == {"code": "LT"}


async def test_create_organisation_with_a_commission_rate(client, admin_token) -> None:
    data = await gql(
        client,
        CREATE,
        {"input": {"contactType": "ORGANIZATION", "displayName": "Groendus", "commissionRate": "0.0525"}},
        token=admin_token,
    )
    assert data["createContact"]["contact"]["commissionRate"] == "0.0525"


@pytest.mark.parametrize(
    ("input_", "typename", "code", "field"),
    [
        ({"contactType": "PERSON", "email": "a@b.nl"}, "ValidationError", "VALIDATION_FAILED", "displayName"),
        ({"contactType": "ORGANIZATION"}, "ValidationError", "VALIDATION_FAILED", "displayName"),
        ({"contactType": "ORGANIZATION", "displayName": "   "}, "ValidationError", "VALIDATION_FAILED", "displayName"),
        (
            {"contactType": "PERSON", "firstName": "A", "email": "not-an-address"},
            "ValidationError",
            "VALIDATION_FAILED",
            "email",
        ),
        (
            {"contactType": "PERSON", "firstName": "A", "commissionRate": "0.1"},
            "ValidationError",
            "VALIDATION_FAILED",
            "commissionRate",
        ),
        (
            {"contactType": "ORGANIZATION", "displayName": "X", "commissionRate": "1.5"},
            "ValidationError",
            "VALIDATION_FAILED",
            "commissionRate",
        ),
        (
            {"contactType": "ORGANIZATION", "displayName": "X", "commissionRate": "0.12345"},
            "ValidationError",
            "VALIDATION_FAILED",
            "commissionRate",
        ),
        (
            {"contactType": "ORGANIZATION", "displayName": "X" * 201},
            "ValidationError",
            "VALIDATION_FAILED",
            "displayName",
        ),
        (
            {
                "contactType": "ORGANIZATION",
                "displayName": "X",
                "parentId": str(relay.GlobalID("Contact", "00000000-0000-0000-0000-000000000001")),
            },
            "InvalidParent",
            "INVALID_PARENT",
            "parentId",
        ),
        (
            {
                "contactType": "ORGANIZATION",
                "displayName": "X",
                "parentId": str(relay.GlobalID("UserAccount", "00000000-0000-0000-0000-000000000001")),
            },
            "ValidationError",
            "VALIDATION_FAILED",
            "parentId",
        ),
        (
            {
                "contactType": "ORGANIZATION",
                "displayName": "X",
                "businessEntityId": str(relay.GlobalID("BusinessEntity", "00000000-0000-0000-0000-000000000001")),
            },
            "ValidationError",
            "VALIDATION_FAILED",
            "businessEntityId",
        ),
    ],
)
async def test_create_refuses_bad_input_and_writes_nothing(
    client, admin_token, session, input_, typename, code, field
) -> None:
    before = await contact_count(session)
    data = await gql(client, CREATE, {"input": input_}, token=admin_token)
    result = data["createContact"]
    assert (result["__typename"], result["code"], result["field"]) == (typename, code, field)
    assert result["message"]
    assert await contact_count(session) == before


async def test_a_person_cannot_be_a_parent(client, admin_token, sessions, session) -> None:
    org = await make_contact(sessions, "Org")
    person = await make_contact(sessions, "Person", person=True, parent_id=org.id)
    before = await contact_count(session)
    data = await gql(
        client,
        CREATE,
        {"input": {"contactType": "PERSON", "firstName": "Kid", "parentId": gid("Contact", person.id)}},
        token=admin_token,
    )
    assert data["createContact"]["__typename"] == "InvalidParent"
    assert data["createContact"]["message"] == "Only organisations can be parents."
    assert await contact_count(session) == before


async def test_update_changes_only_what_is_given(client, admin_token, sessions) -> None:
    org = await make_contact(sessions, "Org")
    data = await gql(
        client, UPDATE, {"input": {"id": gid("Contact", org.id), "phone": "+31 20 123 4567"}}, token=admin_token
    )
    contact = data["updateContact"]["contact"]
    assert contact["phone"] == "+31 20 123 4567"
    assert contact["displayName"] == "Org"
    assert contact["email"] == org.email
    assert contact["updatedAt"] > org.updated_at.isoformat()
    data = await gql(client, UPDATE, {"input": {"id": gid("Contact", org.id), "email": None}}, token=admin_token)
    assert data["updateContact"]["contact"]["email"] is None  # null clears a field that may be empty
    nameless = await gql(
        client, UPDATE, {"input": {"id": gid("Contact", org.id), "displayName": None}}, token=admin_token
    )
    assert (nameless["updateContact"]["__typename"], nameless["updateContact"]["field"]) == (
        "ValidationError",
        "displayName",
    )  # an organisation's name may not be


async def test_reparent_and_make_top_level(client, admin_token, sessions) -> None:
    a = await make_contact(sessions, "A")
    b = await make_contact(sessions, "B")
    c = await make_contact(sessions, "C", parent_id=a.id)
    data = await gql(
        client, UPDATE, {"input": {"id": gid("Contact", c.id), "parentId": gid("Contact", b.id)}}, token=admin_token
    )
    assert data["updateContact"]["contact"]["parent"] == {"displayName": "B"}
    data = await gql(client, UPDATE, {"input": {"id": gid("Contact", c.id), "parentId": None}}, token=admin_token)
    assert data["updateContact"]["contact"]["parent"] is None


async def test_moving_under_own_descendant_is_a_cycle(client, admin_token, sessions, session) -> None:
    a = await make_contact(sessions, "A")
    b = await make_contact(sessions, "B", parent_id=a.id)
    c = await make_contact(sessions, "C", parent_id=b.id)
    for target in (c, a):
        data = await gql(
            client,
            UPDATE,
            {"input": {"id": gid("Contact", a.id), "parentId": gid("Contact", target.id)}},
            token=admin_token,
        )
        result = data["updateContact"]
        assert (result["__typename"], result["code"], result["field"]) == (
            "CycleDetected",
            "CYCLE_DETECTED",
            "parentId",
        )
    parent = (
        await session.execute(text("SELECT parent_organization_id FROM contact WHERE id = :id"), {"id": a.id})
    ).scalar_one()
    assert parent is None


async def test_update_of_an_unknown_contact_is_not_found(client, admin_token) -> None:
    missing = str(relay.GlobalID("Contact", "00000000-0000-0000-0000-000000000001"))
    data = await gql(client, UPDATE, {"input": {"id": missing, "displayName": "X"}}, token=admin_token)
    assert (data["updateContact"]["__typename"], data["updateContact"]["code"]) == ("NotFound", "NOT_FOUND")


async def test_a_failed_update_changes_nothing(client, admin_token, sessions, session) -> None:
    org = await make_contact(sessions, "Org")
    data = await gql(
        client,
        UPDATE,
        {"input": {"id": gid("Contact", org.id), "displayName": "Renamed", "email": "broken"}},
        token=admin_token,
    )
    assert data["updateContact"]["field"] == "email"
    name = (await session.execute(text("SELECT display_name FROM contact WHERE id = :id"), {"id": org.id})).scalar_one()
    assert name == "Org"


@pytest.mark.parametrize("role", [Role.PARTNER, Role.CUSTOMER, Role.FINANCE])
async def test_only_admin_and_staff_write_contacts(client, sessions, session, role) -> None:
    org = await make_contact(sessions, "Org")
    token = await issue_token(sessions, role, contact_id=org.id)
    before = await contact_count(session)
    errors = await gql_errors(
        client, CREATE, {"input": {"contactType": "ORGANIZATION", "displayName": "Mine"}}, token=token
    )
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert await contact_count(session) == before


async def test_staff_may_write_contacts(client, sessions) -> None:
    token = await issue_token(sessions, Role.STAFF)
    data = await gql(client, CREATE, {"input": {"contactType": "ORGANIZATION", "displayName": "Ok"}}, token=token)
    assert data["createContact"]["__typename"] == "ContactSuccess"


async def test_every_contact_mutation_is_audited(client, admin_token, sessions, session) -> None:
    org = await make_contact(sessions, "Org")
    await gql(client, UPDATE, {"input": {"id": gid("Contact", org.id), "displayName": "Renamed"}}, token=admin_token)
    await gql(
        client, UPDATE, {"input": {"id": gid("Contact", org.id), "email": "broken"}}, token=admin_token
    )  # refused
    rows = (
        await session.execute(
            text(
                "SELECT action, before->>'display_name', after->>'display_name', account_id IS NOT NULL, "
                "request_id IS NOT NULL "
                "FROM audit_log WHERE entity_id = :id ORDER BY occurred_at"
            ),
            {"id": org.id},
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("contact.create", None, "Org", False, False),  # made by the test factory, as a system
        ("contact.update", "Org", "Renamed", True, True),
    ]
