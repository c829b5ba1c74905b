"""How the errors of invoicing are answered."""

from __future__ import annotations

import strawberry

from app.finance import errors
from graphql_schema.errors import UserError, error_type


@error_type(errors.NothingToInvoice)
@strawberry.type
class NothingToInvoice(UserError):
    pass


@error_type(errors.LineAlreadyInvoiced)
@strawberry.type
class LineAlreadyInvoiced(UserError):
    invoice_number: str = strawberry.field(description="The invoice that bills the line now (empty if none).")


@error_type(errors.NothingToCredit)
@strawberry.type
class NothingToCredit(UserError):
    pass


@error_type(errors.OrderNotBilled)
@strawberry.type
class OrderNotBilled(UserError):
    status: str = strawberry.field(description="The status that needs the order billed.")
    billing_state: str
