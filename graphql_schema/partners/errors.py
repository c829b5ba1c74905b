"""How the errors of partner integration are answered."""

from __future__ import annotations

import strawberry

from app.partners import errors
from graphql_schema.errors import UserError, error_type


@error_type(errors.PartnerNotConfigured)
@strawberry.type(description="The calling organisation has no integration: staff configure it first.")
class PartnerNotConfigured(UserError):
    pass


@error_type(errors.PartnerInactive)
@strawberry.type(description="The partner's integration is switched off.")
class PartnerInactive(UserError):
    pass


@error_type(errors.AlreadyConfigured)
@strawberry.type(description="The organisation has an integration already (one each).")
class AlreadyConfigured(UserError):
    pass


@error_type(errors.UnknownProductCodes)
@strawberry.type(description="Product codes the partner's catalogue does not map to an article.")
class UnknownProductCodes(UserError):
    codes: list[str] = strawberry.field(description="The codes no product is mapped to.")


@error_type(errors.IdempotencyConflict)
@strawberry.type(description="The partner's reference names an order it sent before with other content.")
class IdempotencyConflict(UserError):
    order_number: str = strawberry.field(description="The order the reference was first sent for.")
