"""Admin mutations: `createUserAccount`, `issueApiToken`, `revokeApiToken`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.types import Info

from app import text
from app.accounts import service
from app.accounts.models import ApiToken as ApiTokenModel
from app.accounts.models import Role
from app.accounts.models import UserAccount as UserAccountModel
from app.accounts.service import AccountCreate
from graphql_schema.accounts.errors import TokenRevokedError
from graphql_schema.accounts.types import ApiToken, RoleEnum, UserAccount
from graphql_schema.errors import NotFoundError, ValidationError, mutate
from graphql_schema.inputs import line_field
from graphql_schema.node import decode_id
from graphql_schema.permissions import IsAdmin


@strawberry.input
class CreateUserAccountInput:
    email: str = line_field(text.column_length(UserAccountModel.email))
    display_name: str = line_field(text.column_length(UserAccountModel.display_name))
    roles: list[RoleEnum]  # type: ignore[valid-type]
    contact_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Required for partner and customer accounts: it decides their scope."
    )


@strawberry.input
class IssueApiTokenInput:
    user_account_id: relay.GlobalID
    label: str | None = line_field(text.column_length(ApiTokenModel.label), default=None)
    expires_at: datetime | None = strawberry.field(default=None, description="Never expires when null.")


@strawberry.input
class RevokeApiTokenInput:
    id: relay.GlobalID


@strawberry.type
class UserAccountSuccess:
    user_account: UserAccount


@strawberry.type
class IssueApiTokenSuccess:
    token: str = strawberry.field(description="The bearer token. Store it now: it is not shown again.")
    api_token: ApiToken


@strawberry.type
class RevokeApiTokenSuccess:
    api_token: ApiToken


CreateUserAccountResult = Annotated[
    UserAccountSuccess | ValidationError | NotFoundError, strawberry.union("CreateUserAccountResult")
]
IssueApiTokenResult = Annotated[
    IssueApiTokenSuccess | ValidationError | NotFoundError, strawberry.union("IssueApiTokenResult")
]
RevokeApiTokenResult = Annotated[
    RevokeApiTokenSuccess | ValidationError | NotFoundError | TokenRevokedError,
    strawberry.union("RevokeApiTokenResult"),
]


@strawberry.type
class AccountMutations:
    @strawberry.mutation(
        description=(
            "Create a user account with its roles; a partner or customer account is tied to its contact (admin)."
        ),
        permission_classes=[IsAdmin],
    )
    async def create_user_account(self, info: Info, input: CreateUserAccountInput) -> CreateUserAccountResult:
        async def change(session: AsyncSession) -> Any:
            contact_id = (
                decode_id(input.contact_id, expected="Contact", field="contact_id") if input.contact_id else None
            )
            account = await service.create_account(
                session=session,
                actor=info.context.actor,
                account_in=AccountCreate(
                    email=input.email,
                    display_name=input.display_name,
                    roles=[Role(r) for r in input.roles],
                    contact_id=contact_id,
                ),
            )
            return account

        return await mutate(
            info, change, lambda account: UserAccountSuccess(user_account=UserAccount.from_model(account))
        )

    @strawberry.mutation(
        description="Issue a bearer token for an account; the token is shown once, in this answer (admin).",
        permission_classes=[IsAdmin],
    )
    async def issue_api_token(self, info: Info, input: IssueApiTokenInput) -> IssueApiTokenResult:
        async def change(session: AsyncSession) -> Any:
            account_id = decode_id(input.user_account_id, expected="UserAccount", field="user_account_id")
            token, raw = await service.issue_token(
                session=session,
                account_id=account_id,
                label=input.label,
                expires_at=input.expires_at,
                actor=info.context.actor,
            )
            return token, raw

        return await mutate(
            info, change, lambda issued: IssueApiTokenSuccess(token=issued[1], api_token=ApiToken.from_model(issued[0]))
        )

    @strawberry.mutation(
        description="Revoke a token: from now on a request with it is answered 401 (admin).",
        permission_classes=[IsAdmin],
    )
    async def revoke_api_token(self, info: Info, input: RevokeApiTokenInput) -> RevokeApiTokenResult:
        async def change(session: AsyncSession) -> Any:
            token_id = decode_id(input.id, expected="ApiToken", field="id")
            token = await service.revoke_token(session=session, token_id=token_id, actor=info.context.actor)
            return token

        return await mutate(info, change, lambda token: RevokeApiTokenSuccess(api_token=ApiToken.from_model(token)))
