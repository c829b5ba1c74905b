"""Errors of user accounts and tokens."""

from __future__ import annotations

from app.errors import DomainError


class TokenAlreadyRevoked(DomainError):
    code = "TOKEN_REVOKED"
