"""How the contact hierarchy's errors are answered."""

from __future__ import annotations

import strawberry

from app.contacts.errors import CycleDetected, InvalidParent
from graphql_schema.errors import UserError, error_type


@error_type(CycleDetected)
@strawberry.type(name="CycleDetected")
class CycleDetectedError(UserError):
    pass


@error_type(InvalidParent)
@strawberry.type(name="InvalidParent")
class InvalidParentError(UserError):
    pass
