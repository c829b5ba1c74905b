"""Errors of the contact hierarchy."""

from __future__ import annotations

import uuid

from app.errors import DomainError, ErrorCode


class CycleDetected(DomainError):
    code = ErrorCode.CYCLE_DETECTED

    def __init__(self, contact_id: uuid.UUID, parent_id: uuid.UUID) -> None:
        super().__init__("The new parent lies below this contact; the move would form a cycle.", field="parentId")
        self.contact_id = contact_id
        self.parent_id = parent_id


class InvalidParent(DomainError):
    code = ErrorCode.INVALID_PARENT

    def __init__(self, message: str, parent_id: uuid.UUID | None) -> None:
        super().__init__(message, field="parentId")
        self.parent_id = parent_id
