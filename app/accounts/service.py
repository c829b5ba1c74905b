"""User accounts, API tokens and authentication.

A token is `cc_` + 43 URL-safe characters (256 random bits). Only its SHA-256 is stored, so a
database leak does not leak usable tokens; the plain token is shown once, when issued.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import text
from app.accounts.errors import TokenAlreadyRevoked
from app.accounts.models import ApiToken, Role, UserAccount
from app.audit.service import Actor, record, snapshot
from app.contacts.models import Contact, ContactType
from app.db import any_of, constraint_name
from app.errors import NotFound, ValidationFailed

TOKEN_PREFIX: Final = "cc_"
# Writing last_used_at on every request would turn every read into a write; once a minute is
# precise enough to see which tokens are in use.
LAST_USED_RESOLUTION: Final = timedelta(minutes=1)
SCOPED_ROLES: Final = frozenset({Role.PARTNER, Role.CUSTOMER})


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated viewer of one request: a snapshot, detached from any session."""

    account_id: uuid.UUID
    roles: frozenset[str]
    contact_id: uuid.UUID | None
    contact_type: ContactType | None
    contact_parent_id: uuid.UUID | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountCreate:
    email: str
    display_name: str
    roles: Collection[Role]
    contact_id: uuid.UUID | None = None


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def get_account(*, session: AsyncSession, account_id: uuid.UUID) -> UserAccount | None:
    return await session.get(UserAccount, account_id)


async def get_accounts(*, session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, UserAccount]:
    rows = await session.scalars(select(UserAccount).where(any_of(UserAccount.id, ids)).order_by(UserAccount.id))
    return {row.id: row for row in rows}


async def list_accounts(*, session: AsyncSession, offset: int, limit: int) -> Sequence[UserAccount]:
    stmt = select(UserAccount).order_by(UserAccount.email, UserAccount.id).offset(offset).limit(limit)
    return (await session.scalars(stmt)).all()


async def count_accounts(*, session: AsyncSession) -> int:
    return (await session.scalar(select(func.count()).select_from(UserAccount))) or 0


async def tokens_of_many(
    *, session: AsyncSession, account_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[ApiToken]]:
    rows = await session.scalars(
        select(ApiToken)
        .where(any_of(ApiToken.user_account_id, account_ids))
        .order_by(ApiToken.user_account_id, ApiToken.created_at.desc(), ApiToken.id)
    )
    result: dict[uuid.UUID, list[ApiToken]] = {}
    for row in rows:
        result.setdefault(row.user_account_id, []).append(row)
    return result


async def create_account(*, session: AsyncSession, account_in: AccountCreate, actor: Actor) -> UserAccount:
    try:
        # An account e-mail identifies a login: unique regardless of case.
        email = text.line(account_in.email, field="email", max_length=text.column_length(UserAccount.email)) or ""
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed(f"Not a valid e-mail address: {exc}", field="email") from None
    length = text.column_length(UserAccount.display_name)
    display_name = text.line(account_in.display_name, field="display_name", max_length=length)
    if display_name is None:
        raise ValidationFailed(f"A display name of 1 to {length} characters is needed.", field="display_name")
    roles = sorted({Role(r).value for r in account_in.roles})
    if not roles:
        raise ValidationFailed("At least one role is needed.", field="roles")
    if account_in.contact_id is None and SCOPED_ROLES & set(roles):
        raise ValidationFailed("Partner and customer accounts must be linked to a contact.", field="contact_id")
    if account_in.contact_id is not None and await session.get(Contact, account_in.contact_id) is None:
        raise NotFound("Contact", account_in.contact_id, field="contact_id")

    account = UserAccount(email=email, display_name=display_name, roles=roles, contact_id=account_in.contact_id)
    session.add(account)
    try:
        await session.flush()
    except IntegrityError as exc:
        if constraint_name(exc) == "uq_user_account_email":
            raise ValidationFailed("An account with this e-mail address exists.", field="email") from None
        raise
    await record(
        session=session,
        actor=actor,
        action="user_account.create",
        entity_type="user_account",
        entity_id=account.id,
        before=None,
        after=snapshot(account),
    )
    return account


async def issue_token(
    *,
    session: AsyncSession,
    account_id: uuid.UUID,
    label: str | None,
    expires_at: datetime | None,
    actor: Actor,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Return the stored token and the plain token, which is not kept anywhere."""
    now = now or datetime.now(UTC)
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)  # a time without a zone is taken as UTC
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("The expiry must lie in the future.", field="expires_at")
    label = text.line(label, field="label", max_length=text.column_length(ApiToken.label))
    if await session.get(UserAccount, account_id) is None:
        raise NotFound("UserAccount", account_id, field="user_account_id")
    raw = new_token()
    token = ApiToken(
        user_account_id=account_id,
        token_hash=hash_token(raw),
        label=label,
        expires_at=expires_at,
    )
    session.add(token)
    await session.flush()
    await record(  # the hash is not logged
        session=session,
        actor=actor,
        action="api_token.issue",
        entity_type="api_token",
        entity_id=token.id,
        before=None,
        after={"user_account_id": account_id, "label": token.label, "expires_at": expires_at},
    )
    return token, raw


async def revoke_token(*, session: AsyncSession, token_id: uuid.UUID, actor: Actor) -> ApiToken:
    token = await session.get(ApiToken, token_id, with_for_update=True, populate_existing=True)
    if token is None:
        raise NotFound("ApiToken", token_id, field="id")
    if token.revoked_at is not None:
        raise TokenAlreadyRevoked("This token is already revoked.", field="id")
    token.revoked_at = datetime.now(UTC)
    await session.flush()
    await record(
        session=session,
        actor=actor,
        action="api_token.revoke",
        entity_type="api_token",
        entity_id=token.id,
        before={"revoked_at": None},
        after={"revoked_at": token.revoked_at},
    )
    return token


async def revoke_labelled(*, session: AsyncSession, account_id: uuid.UUID, label: str) -> int:
    result = await session.execute(
        update(ApiToken)
        .where(ApiToken.user_account_id == account_id, ApiToken.label == label, ApiToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return result.rowcount  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult


async def holds_token(*, session: AsyncSession, account_id: uuid.UUID, raw_token: str) -> bool:
    """Whether `raw_token` is a valid (not revoked, not expired) token of the account; reads only."""
    found = await session.scalar(
        select(ApiToken.id).where(
            ApiToken.token_hash == hash_token(raw_token),
            ApiToken.user_account_id == account_id,
            ApiToken.revoked_at.is_(None),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > func.now()),
        )
    )
    return found is not None


@functools.cache
def _by_token_hash() -> Select[*tuple[Any, ...]]:
    """Built once and kept, the hash bound when it runs: every request asks it, and building the
    statement and working out its cache key cost more than running it (docs/benchmarks.md)."""
    return (
        select(
            ApiToken.id,
            ApiToken.last_used_at,
            UserAccount.id.label("account_id"),
            UserAccount.roles,
            UserAccount.contact_id,
            Contact.contact_type,
            Contact.parent_organization_id,
        )
        .join(UserAccount, UserAccount.id == ApiToken.user_account_id)
        .outerjoin(Contact, Contact.id == UserAccount.contact_id)
        .where(
            ApiToken.token_hash == bindparam("token_hash"),
            ApiToken.revoked_at.is_(None),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > func.now()),
            UserAccount.is_active.is_(True),
        )
    )


async def authenticate(*, session: AsyncSession, raw_token: str) -> Principal | None:
    """The principal for a valid token; None for an unknown, expired or revoked one, or an
    inactive account. Touches `last_used_at` at most once per LAST_USED_RESOLUTION."""
    if not raw_token.startswith(TOKEN_PREFIX) or len(raw_token) > 200:
        return None
    row = (await session.execute(_by_token_hash(), {"token_hash": hash_token(raw_token)})).one_or_none()
    if row is None:
        return None
    now = datetime.now(UTC)
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        await session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=func.now()))
        await session.commit()
    return Principal(
        account_id=row.account_id,
        roles=frozenset(row.roles),
        contact_id=row.contact_id,
        contact_type=row.contact_type,
        contact_parent_id=row.parent_organization_id,
    )
