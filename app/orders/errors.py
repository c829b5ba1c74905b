"""Errors of orders and holds."""

from __future__ import annotations

from app.errors import DomainError


class OrderAlreadyOnHold(DomainError):
    code = "ALREADY_ON_HOLD"


class OrderNotOnHold(DomainError):
    code = "NOT_ON_HOLD"
