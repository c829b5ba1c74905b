"""Typed domain exceptions. Services raise them; the API maps each to a GraphQL error type."""

from __future__ import annotations

import enum
import uuid


class ErrorCode(enum.StrEnum):
    """What went wrong, for clients to switch on: every domain error's code. A domain adds its
    own here when it adds an error."""

    NOT_FOUND = "NOT_FOUND"
    VALIDATION_FAILED = "VALIDATION_FAILED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    CYCLE_DETECTED = "CYCLE_DETECTED"
    INVALID_PARENT = "INVALID_PARENT"
    TOKEN_REVOKED = "TOKEN_REVOKED"
    INVALID_STATUS_TRANSITION = "INVALID_STATUS_TRANSITION"
    APPROVAL_REQUIRED = "APPROVAL_REQUIRED"
    STATUS_CONFLICT = "STATUS_CONFLICT"
    FINAL_STATUS = "FINAL_STATUS"
    NO_WORKFLOW = "NO_WORKFLOW"
    NUMBERING_NOT_CONFIGURED = "NUMBERING_NOT_CONFIGURED"
    ALREADY_ON_HOLD = "ALREADY_ON_HOLD"
    NOT_ON_HOLD = "NOT_ON_HOLD"
    ORDER_LOCKED = "ORDER_LOCKED"
    NOTHING_TO_INVOICE = "NOTHING_TO_INVOICE"
    LINE_ALREADY_INVOICED = "LINE_ALREADY_INVOICED"
    NOTHING_TO_CREDIT = "NOTHING_TO_CREDIT"
    ORDER_NOT_BILLED = "ORDER_NOT_BILLED"
    AMOUNT_EXCEEDS_OPEN = "AMOUNT_EXCEEDS_OPEN"
    STATEMENT_ALREADY_IMPORTED = "STATEMENT_ALREADY_IMPORTED"
    STATEMENT_UNREADABLE = "STATEMENT_UNREADABLE"
    PARTNER_NOT_CONFIGURED = "PARTNER_NOT_CONFIGURED"
    PARTNER_INACTIVE = "PARTNER_INACTIVE"
    UNKNOWN_PRODUCT_CODES = "UNKNOWN_PRODUCT_CODES"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    ALREADY_CONFIGURED = "ALREADY_CONFIGURED"
    TEMPLATE_INVALID = "TEMPLATE_INVALID"
    QUOTE_NOT_EDITABLE = "QUOTE_NOT_EDITABLE"
    QUOTE_NOT_ACCEPTABLE = "QUOTE_NOT_ACCEPTABLE"
    SCHEDULING_CONFLICT = "SCHEDULING_CONFLICT"
    SEAL_ALREADY_USED = "SEAL_ALREADY_USED"
    WORK_ORDER_INCOMPLETE = "WORK_ORDER_INCOMPLETE"
    UPLOAD_REJECTED = "UPLOAD_REJECTED"


class DomainError(Exception):
    """An expected failure: bad input or a broken rule. Nothing has been written."""

    code: ErrorCode

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND

    def __init__(self, entity: str, entity_id: uuid.UUID | str, *, field: str | None = None) -> None:
        super().__init__(f"{entity} {entity_id} does not exist.", field=field)
        self.entity = entity
        self.entity_id = entity_id


class ValidationFailed(DomainError):
    code = ErrorCode.VALIDATION_FAILED


class PermissionDenied(DomainError):
    code = ErrorCode.PERMISSION_DENIED
