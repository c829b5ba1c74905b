"""How the document numbering's errors are answered."""

from __future__ import annotations

import strawberry

from app.numbering.errors import NumberingNotConfigured
from graphql_schema.errors import UserError, error_type


@error_type(NumberingNotConfigured)
@strawberry.type(name="NumberingNotConfigured", description="The brand has no number series for this kind of document.")
class NumberingNotConfiguredError(UserError):
    pass
