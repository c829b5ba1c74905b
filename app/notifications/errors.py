"""What notifications refuse, typed."""

from __future__ import annotations

from collections.abc import Sequence

from app.errors import DomainError, ErrorCode


class TemplateInvalid(DomainError):
    """A template that does not parse, or uses variables its event does not offer: refused when
    it is saved, so that nothing fails when it is sent."""

    code = ErrorCode.TEMPLATE_INVALID

    def __init__(self, message: str, *, field: str, unknown: Sequence[str]) -> None:
        super().__init__(message, field=field)
        self.unknown_variables = list(unknown)
