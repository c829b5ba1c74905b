"""Errors of orders and holds."""

from __future__ import annotations

from app.errors import DomainError, ErrorCode


class OrderAlreadyOnHold(DomainError):
    code = ErrorCode.ALREADY_ON_HOLD


class OrderNotOnHold(DomainError):
    code = ErrorCode.NOT_ON_HOLD


class OrderLocked(DomainError):
    code = ErrorCode.ORDER_LOCKED

    def __init__(self, status: str) -> None:
        super().__init__(f"The order is {status!r}: its lines can no longer change.", field="order_id")
        self.status = status
