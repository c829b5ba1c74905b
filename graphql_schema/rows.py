"""Building GraphQL objects from database rows."""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


def from_row(cls: type[T], row: Any, **overrides: Any) -> T:
    """An instance of the Strawberry type `cls` whose fields are read from the same-named
    attributes of `row`; `overrides` supplies the fields that differ (ids, converted values)."""
    values = {name: getattr(row, name) for name in _field_names(cls) if name not in overrides and hasattr(row, name)}
    return cls(**values, **overrides)
