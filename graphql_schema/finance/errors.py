"""How the errors of invoicing are answered."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from app.finance import errors
from graphql_schema.errors import UserError, error_type


@error_type(errors.NothingToInvoice)
@strawberry.type(description="The order has no unbilled lines.")
class NothingToInvoice(UserError):
    pass


@error_type(errors.LineAlreadyInvoiced)
@strawberry.type(description="The line is billed: it is neither billed again, changed nor removed (credit it first).")
class LineAlreadyInvoiced(UserError):
    invoice_number: str = strawberry.field(description="The invoice that bills the line now (empty if none).")


@error_type(errors.NothingToCredit)
@strawberry.type(description="The invoice has nothing left to credit.")
class NothingToCredit(UserError):
    pass


@error_type(errors.OrderNotBilled)
@strawberry.type(description="The order enters this step only when every line is billed.")
class OrderNotBilled(UserError):
    status: str = strawberry.field(description="The status that needs the order billed.")
    billing_state: str


@error_type(errors.AmountExceedsOpen)
@strawberry.type(description="The amount is more than the document (or the payment) still has open.")
class AmountExceedsOpen(UserError):
    open_amount: Decimal = strawberry.field(description="What the document still asks (or the payment has left).")


@error_type(errors.StatementAlreadyImported)
@strawberry.type(description="This bank statement was imported before.")
class StatementAlreadyImported(UserError):
    pass


@error_type(errors.StatementUnreadable)
@strawberry.type(description="The bank statement cannot be read; `location` says where.")
class StatementUnreadable(UserError):
    location: str = strawberry.field(description="Where: a line, or the path of an XML element.")
