"""`viewer` and, for admins, `userAccounts`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.types import Info

from app.accounts import service
from graphql_schema.accounts.types import UserAccount, Viewer
from graphql_schema.pagination import After, Before, Connection, First, Last, PageArgs, connection_from_query
from graphql_schema.permissions import IsAdmin


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The current account, its contact and the root of its scope.")
    def viewer(self, info: Info) -> Viewer:
        ctx = info.context
        principal = ctx.principal
        return Viewer(
            roles=sorted(principal.roles),
            account_id=principal.account_id,
            contact_id=principal.contact_id,
            scope_root_id=ctx.viewer.root_id,
        )

    @strawberry.field(permission_classes=[IsAdmin], description="Every user account, by e-mail (admins).")
    async def user_accounts(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[UserAccount]:
        ctx = info.context

        async def count() -> int:
            async with ctx.db() as session:
                return await service.count_accounts(session=session)

        async def fetch(offset: int, limit: int) -> Sequence[Any]:
            async with ctx.db() as session:
                return await service.list_accounts(session=session, offset=offset, limit=limit)

        return await connection_from_query(
            PageArgs(first, after, last, before), ctx.max_page_size, count, fetch, UserAccount.from_model
        )
