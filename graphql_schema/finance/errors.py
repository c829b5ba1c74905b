"""How the errors of invoicing are answered."""

from __future__ import annotations

from decimal import Decimal

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


@error_type(errors.AmountExceedsOpen)
@strawberry.type
class AmountExceedsOpen(UserError):
    open_amount: Decimal = strawberry.field(description="What the document still asks (or the payment has left).")


@error_type(errors.StatementAlreadyImported)
@strawberry.type
class StatementAlreadyImported(UserError):
    pass


@error_type(errors.StatementUnreadable)
@strawberry.type
class StatementUnreadable(UserError):
    location: str = strawberry.field(description="Where: a line, or the path of an XML element.")
