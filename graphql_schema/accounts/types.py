"""User accounts, API tokens and the viewer."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Self
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.types import Info

from app.accounts.models import ApiToken as ApiTokenModel
from app.accounts.models import Role
from app.accounts.models import UserAccount as UserAccountModel
from graphql_schema.accounts.loaders import TokensByAccountIdLoader, UserAccountByIdLoader
from graphql_schema.contacts.types import Contact, load_contact
from graphql_schema.execution import context_only
from graphql_schema.node import register_node
from graphql_schema.permissions import IsAdmin
from graphql_schema.rows import from_row

RoleEnum = strawberry.enum(Role, name="Role")


@strawberry.type(description="An API token. The token itself is shown only once, when issued.")
class ApiToken(relay.Node):
    id: relay.NodeID[str]
    label: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = strawberry.field(description="Updated at most once a minute.")
    created_at: datetime

    @classmethod
    def from_model(cls, model: ApiTokenModel) -> Self:
        return from_row(cls, model, id=str(model.id))


@strawberry.type(description="A login of a person or a system; staff accounts need no contact.")
class UserAccount(relay.Node):
    id: relay.NodeID[str]
    email: str
    display_name: str
    roles: list[RoleEnum]  # type: ignore[valid-type]
    is_active: bool
    created_at: datetime

    uuid: strawberry.Private[UUID]
    contact_id: strawberry.Private[UUID | None]

    @classmethod
    def from_model(cls, model: UserAccountModel) -> Self:
        return from_row(cls, model, id=str(model.id), uuid=model.id, roles=[Role(r) for r in model.roles])

    @strawberry.field
    @context_only
    async def contact(self, info: Info) -> Contact | None:
        return await load_contact(info, self.contact_id)

    @strawberry.field(permission_classes=[IsAdmin], description="Newest first (admins only).")
    async def api_tokens(self, info: Info) -> list[ApiToken]:
        tokens = await info.context.loaders.get(TokensByAccountIdLoader).load(self.uuid)
        return [ApiToken.from_model(token) for token in tokens]


@strawberry.type(description="Who is asking: the account behind the token and its scope.")
class Viewer:
    roles: list[RoleEnum]  # type: ignore[valid-type]
    account_id: strawberry.Private[UUID]
    contact_id: strawberry.Private[UUID | None]
    scope_root_id: strawberry.Private[UUID | None]

    @strawberry.field
    async def account(self, info: Info) -> UserAccount:
        model = await info.context.loaders.get(UserAccountByIdLoader).load(self.account_id)
        return UserAccount.from_model(model)

    @strawberry.field(description="The viewer's own contact (none for internal staff).")
    @context_only
    async def contact(self, info: Info) -> Contact | None:
        return await load_contact(info, self.contact_id)

    @strawberry.field(
        description="The top of what the viewer sees: its organisation (partners) or itself "
        "(customers); null for staff, who see everything."
    )
    async def scope_root(self, info: Info) -> Contact | None:
        return await load_contact(info, self.scope_root_id)


async def _load_nodes(info: Info, ids: Sequence[uuid.UUID]) -> list[UserAccount | None]:
    models = await info.context.loaders.get(UserAccountByIdLoader).load_many(ids)
    return [UserAccount.from_model(m) if m is not None else None for m in models]


register_node("UserAccount", _load_nodes)
