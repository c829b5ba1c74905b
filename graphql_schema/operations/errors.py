"""How the errors of field operations are answered."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from app.operations import errors
from graphql_schema.errors import UserError, error_type
from graphql_schema.node import global_id


@error_type(errors.QuoteNotEditable)
@strawberry.type(description="Only a draft quote changes; a sent quote is revised, a closed one not at all.")
class QuoteNotEditable(UserError):
    status: str = strawberry.field(description="The quote's status now.")


@error_type(errors.QuoteNotAcceptable)
@strawberry.type(description="Only a sent quote within its validity date is accepted.")
class QuoteNotAcceptable(UserError):
    status: str = strawberry.field(description="accepted, expired, superseded, rejected or draft.")


@error_type(errors.SchedulingConflict)
@strawberry.type(description="An installer is booked on another visit at an overlapping time.")
class SchedulingConflict(UserError):
    installer_name: str
    starts_at: datetime = strawberry.field(description="When the visit it clashes with starts.")
    ends_at: datetime
    installer_id: strawberry.Private[uuid.UUID]
    visit_id: strawberry.Private[uuid.UUID]

    @strawberry.field(name="installerId", description="The installer booked twice (a Contact's id).")
    def installer_global_id(self) -> strawberry.ID:
        return strawberry.ID(global_id("Contact", self.installer_id))

    @strawberry.field(name="visitId", description="The visit it clashes with (a Visit's id).")
    def visit_global_id(self) -> strawberry.ID:
        return strawberry.ID(global_id("Visit", self.visit_id))


@error_type(errors.SealAlreadyUsed)
@strawberry.type(description="A seal number is placed once and removed once.")
class SealAlreadyUsed(UserError):
    seal_number: str
    action: str = strawberry.field(description="removed or placed: what was done with it before.")


@error_type(errors.WorkOrderIncomplete)
@strawberry.type(
    description=(
        "The work order completes only with its checklist done and, for an installation, a record with passed tests; "
        "`missing` says what is not."
    )
)
class WorkOrderIncomplete(UserError):
    missing: list[str] = strawberry.field(description="What is still to do.")


@error_type(errors.UploadRejected)
@strawberry.type(description="The file is empty, too large, or of a type not accepted (judged from its content).")
class UploadRejected(UserError):
    pass
