"""Errors of the number series."""

from __future__ import annotations

from app.errors import DomainError, ErrorCode


class NumberingNotConfigured(DomainError):
    code = ErrorCode.NUMBERING_NOT_CONFIGURED
