"""How the errors of partner integration are answered."""

from __future__ import annotations

import strawberry

from app.partners import errors
from graphql_schema.errors import UserError, error_type


@error_type(errors.PartnerNotConfigured)
@strawberry.type
class PartnerNotConfigured(UserError):
    pass


@error_type(errors.PartnerInactive)
@strawberry.type
class PartnerInactive(UserError):
    pass


@error_type(errors.AlreadyConfigured)
@strawberry.type
class AlreadyConfigured(UserError):
    pass


@error_type(errors.UnknownProductCodes)
@strawberry.type
class UnknownProductCodes(UserError):
    codes: list[str] = strawberry.field(description="The codes no product is mapped to.")


@error_type(errors.IdempotencyConflict)
@strawberry.type
class IdempotencyConflict(UserError):
    order_number: str = strawberry.field(description="The order the reference was first sent for.")
