"""What partner integration refuses, typed (each answered as its own GraphQL error type)."""

from __future__ import annotations

from collections.abc import Sequence

from app.errors import DomainError, ErrorCode


class PartnerNotConfigured(DomainError):
    """The calling organisation has no integration: staff configure it first."""

    code = ErrorCode.PARTNER_NOT_CONFIGURED


class PartnerInactive(DomainError):
    code = ErrorCode.PARTNER_INACTIVE


class AlreadyConfigured(DomainError):
    """An organisation has one integration."""

    code = ErrorCode.ALREADY_CONFIGURED


class UnknownProductCodes(DomainError):
    code = ErrorCode.UNKNOWN_PRODUCT_CODES

    def __init__(self, codes: Sequence[str]) -> None:
        super().__init__(f"No product is mapped to {', '.join(codes)}.", field="lines")
        self.codes = list(codes)


class IdempotencyConflict(DomainError):
    """The partner's reference names an order it sent before with other content."""

    code = ErrorCode.IDEMPOTENCY_CONFLICT

    def __init__(self, reference: str, order_number: str) -> None:
        super().__init__(
            f"Order reference {reference!r} was sent before (order {order_number}) with other content; "
            "nothing was changed.",
            field="partner_order_reference",
        )
        self.order_number = order_number
