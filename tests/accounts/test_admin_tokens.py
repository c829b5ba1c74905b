"""Admins create accounts and issue and revoke tokens through the API; nobody else can."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from strawberry import relay

from app.accounts.models import Role
from tests.factories import issue_token, make_contact
from tests.support.api import gql, gql_errors, post

CREATE_ACCOUNT = """
mutation ($input: CreateUserAccountInput!) {
  createUserAccount(input: $input) {
    __typename
    ... on UserAccountSuccess { userAccount { id email roles contact { displayName } } }
    ... on UserError { code field message }
  }
}
"""
ISSUE = """
mutation ($input: IssueApiTokenInput!) {
  issueApiToken(input: $input) {
    __typename
    ... on IssueApiTokenSuccess { token apiToken { id label expiresAt revokedAt } }
    ... on UserError { code field }
  }
}
"""
REVOKE = """
mutation ($input: RevokeApiTokenInput!) {
  revokeApiToken(input: $input) {
    __typename
    ... on RevokeApiTokenSuccess { apiToken { revokedAt } }
    ... on UserError { code field }
  }
}
"""


async def test_admin_creates_an_account_issues_and_revokes_a_token(client, sessions, admin_token) -> None:
    org = await make_contact(sessions, "Groendus")
    person = await make_contact(sessions, "Pieter", person=True, parent_id=org.id)
    created = await gql(
        client,
        CREATE_ACCOUNT,
        {
            "input": {
                "email": "Pieter@Groendus.nl",
                "displayName": "Pieter",
                "roles": ["PARTNER"],
                "contactId": str(relay.GlobalID("Contact", str(person.id))),
            }
        },
        token=admin_token,
    )
    account = created["createUserAccount"]["userAccount"]
    assert account["roles"] == ["PARTNER"] and account["contact"] == {"displayName": "Pieter"}

    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    issued = await gql(
        client,
        ISSUE,
        {"input": {"userAccountId": account["id"], "label": "portal", "expiresAt": expires}},
        token=admin_token,
    )
    token = issued["issueApiToken"]["token"]
    assert token.startswith("cc_") and issued["issueApiToken"]["apiToken"]["label"] == "portal"

    viewer = await gql(client, "{ viewer { scopeRoot { displayName } } }", token=token)
    assert viewer["viewer"]["scopeRoot"] == {"displayName": "Groendus"}

    token_id = issued["issueApiToken"]["apiToken"]["id"]
    revoked = await gql(client, REVOKE, {"input": {"id": token_id}}, token=admin_token)
    assert revoked["revokeApiToken"]["apiToken"]["revokedAt"] is not None
    assert (await post(client, "{ viewer { roles } }", token=token)).status_code == 401
    again = await gql(client, REVOKE, {"input": {"id": token_id}}, token=admin_token)
    assert (again["revokeApiToken"]["__typename"], again["revokeApiToken"]["code"]) == ("TokenRevoked", "TOKEN_REVOKED")

    listing = await gql(
        client,
        "{ userAccounts(first: 10) { totalCount nodes { email apiTokens { label revokedAt } } } }",
        token=admin_token,
    )
    assert listing["userAccounts"]["totalCount"] == 2
    pieter = next(n for n in listing["userAccounts"]["nodes"] if n["email"] == "pieter@groendus.nl")
    assert [t["label"] for t in pieter["apiTokens"]] == ["portal"]


async def test_account_and_token_input_errors(client, sessions, session, admin_token) -> None:
    cases = [
        ({"email": "nope", "displayName": "X", "roles": ["STAFF"]}, "ValidationError", "email"),
        ({"email": "a@b.nl", "displayName": "X", "roles": []}, "ValidationError", "roles"),
        ({"email": "a@b.nl", "displayName": "X", "roles": ["PARTNER"]}, "ValidationError", "contactId"),
        (
            {
                "email": "a@b.nl",
                "displayName": "X",
                "roles": ["CUSTOMER"],
                "contactId": str(relay.GlobalID("Contact", "00000000-0000-0000-0000-000000000001")),
            },
            "NotFound",
            "contactId",
        ),
    ]
    for input_, typename, field in cases:
        result = (await gql(client, CREATE_ACCOUNT, {"input": input_}, token=admin_token))["createUserAccount"]
        assert (result["__typename"], result["field"]) == (typename, field), input_
    assert (await session.execute(text("SELECT count(*) FROM user_account"))).scalar_one() == 1  # the admin

    await gql(
        client,
        CREATE_ACCOUNT,
        {"input": {"email": "dup@b.nl", "displayName": "X", "roles": ["STAFF"]}},
        token=admin_token,
    )
    dup = await gql(
        client,
        CREATE_ACCOUNT,
        {"input": {"email": "DUP@b.nl", "displayName": "Y", "roles": ["STAFF"]}},
        token=admin_token,
    )
    assert (dup["createUserAccount"]["__typename"], dup["createUserAccount"]["field"]) == ("ValidationError", "email")

    missing = str(relay.GlobalID("UserAccount", "00000000-0000-0000-0000-000000000001"))
    result = (await gql(client, ISSUE, {"input": {"userAccountId": missing}}, token=admin_token))["issueApiToken"]
    assert (result["__typename"], result["field"]) == ("NotFound", "userAccountId")
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    listing = await gql(client, "{ userAccounts { nodes { id } } }", token=admin_token)
    account_id = listing["userAccounts"]["nodes"][0]["id"]
    result = await gql(client, ISSUE, {"input": {"userAccountId": account_id, "expiresAt": past}}, token=admin_token)
    assert (result["issueApiToken"]["__typename"], result["issueApiToken"]["field"]) == ("ValidationError", "expiresAt")
    assert (await session.execute(text("SELECT count(*) FROM api_token"))).scalar_one() == 1


async def test_only_admins_manage_accounts_and_tokens(client, sessions) -> None:
    staff = await issue_token(sessions, Role.STAFF)
    cases: list[tuple[str, dict[str, Any] | None]] = [
        (CREATE_ACCOUNT, {"input": {"email": "x@y.nl", "displayName": "X", "roles": ["ADMIN"]}}),
        (
            ISSUE,
            {"input": {"userAccountId": str(relay.GlobalID("UserAccount", "00000000-0000-0000-0000-000000000001"))}},
        ),
        ("{ userAccounts { totalCount } }", None),
    ]
    for query, variables in cases:
        errors = await gql_errors(client, query, variables, token=staff)
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_viewer_sees_only_its_own_account(client, sessions, admin_token) -> None:
    staff = await issue_token(sessions, Role.STAFF)
    admin_account = (await gql(client, "{ viewer { account { id } } }", token=admin_token))["viewer"]["account"]["id"]
    own = (await gql(client, "{ viewer { account { id } } }", token=staff))["viewer"]["account"]["id"]
    data = await gql(
        client, "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [admin_account, own]}, token=staff
    )
    assert data["nodes"] == [None, {"id": own}]
