"""How the errors of notifications are answered."""

from __future__ import annotations

import strawberry

from app.notifications import errors
from graphql_schema.errors import UserError, error_type


@error_type(errors.TemplateInvalid)
@strawberry.type(description="The template does not parse, or uses variables its event does not offer.")
class TemplateInvalid(UserError):
    unknown_variables: list[str] = strawberry.field(
        description="Names the template uses that its event does not offer (empty for a syntax error)."
    )
