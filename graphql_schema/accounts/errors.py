"""How the accounts' errors are answered."""

from __future__ import annotations

import strawberry

from app.accounts.errors import TokenAlreadyRevoked
from graphql_schema.errors import UserError, error_type


@error_type(TokenAlreadyRevoked)
@strawberry.type(name="TokenRevoked", description="The token was revoked before.")
class TokenRevokedError(UserError):
    pass
