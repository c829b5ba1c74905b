"""Errors of field operations."""

from __future__ import annotations

import uuid
from datetime import datetime

from app.errors import DomainError, ErrorCode


class QuoteNotEditable(DomainError):
    """Only a draft changes; a sent quote is revised (`reviseQuote`), a closed one not at all."""

    code = ErrorCode.QUOTE_NOT_EDITABLE

    def __init__(self, message: str, *, status: str) -> None:
        super().__init__(message, field="id")
        self.status = status


class QuoteNotAcceptable(DomainError):
    """Accepting a quote that is not sent and valid: a draft, one accepted already, rejected,
    expired (or past its validity date) or superseded by a revision."""

    code = ErrorCode.QUOTE_NOT_ACCEPTABLE

    def __init__(self, message: str, *, status: str) -> None:
        super().__init__(message, field="id")
        self.status = status


class SchedulingConflict(DomainError):
    """An installer is booked on another visit at an overlapping time."""

    code = ErrorCode.SCHEDULING_CONFLICT

    def __init__(
        self,
        *,
        installer_id: uuid.UUID,
        installer_name: str,
        visit_id: uuid.UUID,
        starts_at: datetime,
        ends_at: datetime,
    ) -> None:
        super().__init__(
            f"{installer_name} is booked from {starts_at.isoformat(timespec='minutes')} "
            f"to {ends_at.isoformat(timespec='minutes')} on another visit.",
            field="installer_ids",
        )
        self.installer_id = installer_id
        self.installer_name = installer_name
        self.visit_id = visit_id
        self.starts_at = starts_at
        self.ends_at = ends_at


class SealAlreadyUsed(DomainError):
    """A seal number is placed once and removed once."""

    code = ErrorCode.SEAL_ALREADY_USED

    def __init__(self, seal_number: str, action: str) -> None:
        super().__init__(f"Seal {seal_number} was {action} before.", field=action)
        self.seal_number = seal_number
        self.action = action


class WorkOrderIncomplete(DomainError):
    """A work order is completed only when its checklist is done (and an installation has its
    record with passed tests)."""

    code = ErrorCode.WORK_ORDER_INCOMPLETE

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"The work order is not complete: {'; '.join(missing)}.", field="to_status")
        self.missing = missing


class UploadRejected(DomainError):
    """The file is empty, too large, or of a type not accepted (judged from its content)."""

    code = ErrorCode.UPLOAD_REJECTED

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")
