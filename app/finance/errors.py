"""Errors of invoicing."""

from __future__ import annotations

from decimal import Decimal

from app.errors import DomainError, ErrorCode


class NothingToInvoice(DomainError):
    code = ErrorCode.NOTHING_TO_INVOICE


class LineAlreadyInvoiced(DomainError):
    """An order line that is billed (on an invoice that has not credited it) is billed again, or
    changed; or a line that was ever billed is removed."""

    code = ErrorCode.LINE_ALREADY_INVOICED

    def __init__(self, message: str, *, invoice_number: str, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.invoice_number = invoice_number


class NothingToCredit(DomainError):
    code = ErrorCode.NOTHING_TO_CREDIT


class OrderNotBilled(DomainError):
    """The order may enter a step flagged `requires_billing` only when every line is billed."""

    code = ErrorCode.ORDER_NOT_BILLED

    def __init__(self, status: str, billing_state: str) -> None:
        super().__init__(
            f"The order can be {status!r} only when all its lines are invoiced (it is {billing_state}).",
            field="to_status",
        )
        self.status = status
        self.billing_state = billing_state


class AmountExceedsOpen(DomainError):
    """An allocation larger than what the document still asks (or the payment still has)."""

    code = ErrorCode.AMOUNT_EXCEEDS_OPEN

    def __init__(self, message: str, *, open_amount: Decimal, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.open_amount = open_amount


class StatementAlreadyImported(DomainError):
    code = ErrorCode.STATEMENT_ALREADY_IMPORTED


class StatementUnreadable(DomainError):
    """The statement cannot be read; `location` says where (a line, or an XML element)."""

    code = ErrorCode.STATEMENT_UNREADABLE

    def __init__(self, message: str, *, location: str) -> None:
        super().__init__(f"{message} ({location})", field="content")
        self.location = location
