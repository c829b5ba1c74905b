"""Building GraphQL objects from database rows."""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


@cache
def _read(cls: type, columns: tuple[str, ...], overridden: frozenset[str]) -> tuple[str, ...]:
    """The fields of `cls` a row with these columns supplies (the overrides aside)."""
    present = set(columns)
    return tuple(name for name in _field_names(cls) if name in present and name not in overridden)


def from_row(cls: type[T], row: Any, **overrides: Any) -> T:
    """An instance of the Strawberry type `cls` whose fields are read from the same-named
    attributes of `row` (a plain row, app.db.columns, or an object); `overrides` supplies the
    fields that differ (ids, converted values)."""
    klass: Any = cls  # the caches key on the class
    columns = getattr(row, "_fields", None)
    if columns is not None:
        names = _read(klass, columns, frozenset(overrides))
        values = {name: getattr(row, name) for name in names}
    else:
        values = {
            name: getattr(row, name) for name in _field_names(klass) if name not in overrides and hasattr(row, name)
        }
    return cls(**values, **overrides)
