"""How the contact hierarchy's errors are answered."""

from __future__ import annotations

import strawberry

from app.contacts.errors import CycleDetected, InvalidParent
from graphql_schema.errors import UserError, error_type


@error_type(CycleDetected)
@strawberry.type(
    name="CycleDetected",
    description="The new parent lies below the contact in the hierarchy: the move would make a cycle.",
)
class CycleDetectedError(UserError):
    pass


@error_type(InvalidParent)
@strawberry.type(
    name="InvalidParent",
    description="The contact named as parent cannot be this contact's parent.",
)
class InvalidParentError(UserError):
    pass
