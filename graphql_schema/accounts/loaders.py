"""Loaders of user accounts and their tokens. Admins see every account, others their own."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from app.accounts import service
from app.accounts.models import ApiToken, Role, UserAccount
from graphql_schema.loaders import ContextLoader


class UserAccountByIdLoader(ContextLoader[uuid.UUID, UserAccount | None]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[UserAccount | None]:
        ctx = self.context
        allowed = [key for key in keys if ctx.has_role(Role.ADMIN) or key == ctx.account_id]
        async with ctx.db() as session:
            found = await service.get_accounts(session=session, ids=allowed) if allowed else {}
        return [found.get(key) for key in keys]


class TokensByAccountIdLoader(ContextLoader[uuid.UUID, list[ApiToken]]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[ApiToken]]:
        async with self.context.db() as session:
            found = await service.tokens_of_many(session=session, account_ids=keys)
        return [found.get(key, []) for key in keys]


class AccountNameLoader(ContextLoader[uuid.UUID, str | None]):
    """Display names of accounts, for "who did this" in histories (names only, for everyone)."""

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[str | None]:
        async with self.context.db() as session:
            found = await service.get_accounts(session=session, ids=keys)
        return [found[key].display_name if key in found else None for key in keys]
