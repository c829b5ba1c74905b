"""How the status engine's errors are answered."""

from __future__ import annotations

import strawberry

from app.status import errors
from graphql_schema.errors import UserError, error_type


@error_type(errors.InvalidStatusTransition)
@strawberry.type(description="The workflow does not lead from `fromStatus` to `toStatus`.")
class InvalidStatusTransition(UserError):
    from_status: str | None
    to_status: str
    allowed: list[str] = strawberry.field(description="The statuses this one may move to.")


@error_type(errors.ApprovalRequired)
@strawberry.type(description="The target step needs a role (`role`) the viewer does not have.")
class ApprovalRequired(UserError):
    role: str = strawberry.field(description="The role the target step needs.")


@error_type(errors.StatusConflict)
@strawberry.type(description="The status is `actual`, not the `expected` one the client read: read again, then decide.")
class StatusConflict(UserError):
    expected: str | None
    actual: str


@error_type(errors.FinalStatus)
@strawberry.type(description="The entity is in a final status: it changes no more.")
class FinalStatus(UserError):
    status: str


@error_type(errors.NoWorkflow)
@strawberry.type(name="NoWorkflow", description="No workflow is set up for this entity type (and brand).")
class NoWorkflowError(UserError):
    pass
