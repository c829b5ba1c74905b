"""How the status engine's errors are answered."""

from __future__ import annotations

import strawberry

from app.status import errors
from graphql_schema.errors import UserError, error_type


@error_type(errors.InvalidStatusTransition)
@strawberry.type
class InvalidStatusTransition(UserError):
    from_status: str | None
    to_status: str
    allowed: list[str] = strawberry.field(description="The statuses this one may move to.")


@error_type(errors.ApprovalRequired)
@strawberry.type
class ApprovalRequired(UserError):
    role: str = strawberry.field(description="The role the target step needs.")


@error_type(errors.StatusConflict)
@strawberry.type
class StatusConflict(UserError):
    expected: str | None
    actual: str


@error_type(errors.FinalStatus)
@strawberry.type
class FinalStatus(UserError):
    status: str


@error_type(errors.NoWorkflow)
@strawberry.type(name="NoWorkflow")
class NoWorkflowError(UserError):
    pass
