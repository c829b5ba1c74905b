"""Errors of user accounts and tokens."""

from __future__ import annotations

from app.errors import DomainError, ErrorCode


class TokenAlreadyRevoked(DomainError):
    code = ErrorCode.TOKEN_REVOKED
