"""Errors of the status engine."""

from __future__ import annotations

from collections.abc import Sequence

from app.errors import DomainError, ErrorCode


class InvalidStatusTransition(DomainError):
    code = ErrorCode.INVALID_STATUS_TRANSITION

    def __init__(self, from_status: str | None, to_status: str, allowed: Sequence[str]) -> None:
        super().__init__(
            f"Cannot go from {from_status!r} to {to_status!r}; allowed: {', '.join(allowed) or 'none'}.",
            field="to_status",
        )
        self.from_status = from_status
        self.to_status = to_status
        self.allowed = list(allowed)


class ApprovalRequired(DomainError):
    code = ErrorCode.APPROVAL_REQUIRED

    def __init__(self, to_status: str, role: str) -> None:
        super().__init__(f"Moving to {to_status!r} needs the {role!r} role.", field="to_status")
        self.role = role


class StatusConflict(DomainError):
    code = ErrorCode.STATUS_CONFLICT

    def __init__(self, expected: str | None, actual: str) -> None:
        super().__init__(
            f"The status is {actual!r}, not {expected!r}: someone changed it first.", field="expected_status"
        )
        self.expected = expected
        self.actual = actual


class FinalStatus(DomainError):
    code = ErrorCode.FINAL_STATUS

    def __init__(self, status: str) -> None:
        super().__init__(f"{status!r} is final: the status cannot change any more.", field="to_status")
        self.status = status


class NoWorkflow(DomainError):
    code = ErrorCode.NO_WORKFLOW
