"""Typed domain exceptions. Services raise them; the API maps each to a GraphQL error type."""

from __future__ import annotations

import uuid


class DomainError(Exception):
    """An expected failure: bad input or a broken rule. Nothing has been written."""

    code: str = "DOMAIN_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, entity: str, entity_id: uuid.UUID | str, *, field: str | None = None) -> None:
        super().__init__(f"{entity} {entity_id} does not exist.", field=field)
        self.entity = entity
        self.entity_id = entity_id


class ValidationFailed(DomainError):
    code = "VALIDATION_FAILED"


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"
