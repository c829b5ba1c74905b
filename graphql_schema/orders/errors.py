"""How the orders' errors are answered."""

from __future__ import annotations

import strawberry

from app.orders import errors
from graphql_schema.errors import UserError, error_type


@error_type(errors.OrderAlreadyOnHold)
@strawberry.type(description="The order is on hold already; resume it first.")
class AlreadyOnHold(UserError):
    pass


@error_type(errors.OrderNotOnHold)
@strawberry.type(description="The order is not on hold, so there is nothing to resume.")
class NotOnHold(UserError):
    pass


@error_type(errors.OrderLocked)
@strawberry.type(description="The order's lines no longer change in its current status.")
class OrderLocked(UserError):
    status: str = strawberry.field(description="The status that locks the lines (invoiced or final).")
