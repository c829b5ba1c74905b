"""Bearer tokens: no token, bad tokens, revoked and expired ones, last use, hashing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update

from app.accounts import service
from app.accounts.models import ApiToken, Role, UserAccount
from app.audit.service import SYSTEM
from tests.factories import issue_token
from tests.support.api import gql, post

DATA = "{ viewer { roles } }"
INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_without_a_token_data_fields_are_unauthenticated(client) -> None:
    """Answered as a bad token is: HTTP 401 with `WWW-Authenticate`, whatever the operation."""
    mutation = 'mutation { createContact(input: {contactType: ORGANIZATION, displayName: "X"}) { __typename } }'
    for query in (DATA, "{ contacts { totalCount } }", "{ __typename contacts { totalCount } }", mutation):
        response = await post(client, query)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        body = response.json()
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


async def test_without_a_token_introspection_stays_open(client) -> None:
    assert await gql(client, INTROSPECTION) == {"__schema": {"queryType": {"name": "Query"}}}


@pytest.mark.parametrize(
    "header",
    ["Bearer cc_unknown", "Bearer ", "Basic dXNlcjpwYXNz", "cc_no_scheme", "Bearer not-our-format"],
)
async def test_a_bad_token_is_refused_not_treated_as_anonymous(client, header) -> None:
    for query in (DATA, INTROSPECTION):
        response = await client.post("/graphql", json={"query": query}, headers={"Authorization": header})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def _account_with_token(sessions, **token_args) -> tuple:
    async with sessions() as session, session.begin():
        account = await service.create_account(
            session=session,
            actor=SYSTEM,
            account_in=service.AccountCreate(email="t@test.example", display_name="T", roles=[Role.STAFF]),
        )
        token, raw = await service.issue_token(
            session=session, account_id=account.id, label=None, actor=SYSTEM, **token_args
        )
    return account.id, token.id, raw


async def test_a_revoked_token_is_refused(client, sessions) -> None:
    _, token_id, raw = await _account_with_token(sessions, expires_at=None)
    assert (await post(client, DATA, token=raw)).status_code == 200
    async with sessions() as session, session.begin():
        await service.revoke_token(session=session, token_id=token_id, actor=SYSTEM)
    assert (await post(client, DATA, token=raw)).status_code == 401


async def test_an_expired_token_is_refused(client, sessions) -> None:
    _, token_id, raw = await _account_with_token(sessions, expires_at=datetime.now(UTC) + timedelta(hours=1))
    assert (await post(client, DATA, token=raw)).status_code == 200
    async with sessions() as session, session.begin():
        await session.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert (await post(client, DATA, token=raw)).status_code == 401


async def test_an_inactive_account_is_refused(client, sessions) -> None:
    account_id, _, raw = await _account_with_token(sessions, expires_at=None)
    async with sessions() as session, session.begin():
        await session.execute(update(UserAccount).where(UserAccount.id == account_id).values(is_active=False))
    assert (await post(client, DATA, token=raw)).status_code == 401


async def test_tokens_are_stored_only_as_a_hash_and_record_their_last_use(
    client, sessions, session, admin_token
) -> None:
    rows = (await session.execute(text("SELECT token_hash, last_used_at FROM api_token"))).all()
    assert len(rows) == 1
    assert admin_token not in rows[0].token_hash and rows[0].token_hash == service.hash_token(admin_token)
    assert rows[0].last_used_at is None
    await gql(client, DATA, token=admin_token)
    first_use = (await session.execute(text("SELECT last_used_at FROM api_token"))).scalar_one()
    assert first_use is not None
    await session.commit()
    await gql(client, DATA, token=admin_token)  # within the minute: not written again
    assert (await session.execute(text("SELECT last_used_at FROM api_token"))).scalar_one() == first_use


async def test_the_viewer(client, sessions) -> None:
    token = await issue_token(sessions, Role.FINANCE)
    data = await gql(
        client, "{ viewer { roles account { email roles } contact { id } scopeRoot { id } } }", token=token
    )
    assert data["viewer"]["roles"] == ["FINANCE"]
    assert data["viewer"]["account"]["roles"] == ["FINANCE"]
    assert data["viewer"]["contact"] is None and data["viewer"]["scopeRoot"] is None
