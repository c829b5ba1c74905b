"""Errors of the number series."""

from __future__ import annotations

from app.errors import DomainError


class NumberingNotConfigured(DomainError):
    code = "NUMBERING_NOT_CONFIGURED"
