"""Building GraphQL objects from database rows."""

from __future__ import annotations

import dataclasses
from functools import cache
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy.engine import Row

T = TypeVar("T")


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


@cache
def _read(cls: type, columns: tuple[str, ...], overridden: frozenset[str]) -> tuple[str, ...]:
    """The fields of `cls` a row with these columns supplies (the overrides aside)."""
    present = set(columns)
    return tuple(name for name in _field_names(cls) if name in present and name not in overridden)


_Reader = tuple[tuple[str, ...], Any]

_readers: dict[tuple[type, int, frozenset[str]], tuple[Any, _Reader]] = {}
READERS_KEPT = 4096


def _reader(cls: type, shape: Any, overridden: frozenset[str]) -> _Reader:
    """For the rows of one result shape (a statement's result metadata, which SQLAlchemy keeps
    with the compiled statement and shares among its rows): the fields of `cls` they supply and
    a getter of their values by position. A row's `_fields` builds a new tuple at every call,
    and reading a row by name is a lookup per column: both were a fifth of a tree's completion
    (docs/benchmarks.md)."""
    key = (cls, id(shape), overridden)
    found = _readers.get(key)
    if found is not None and found[0] is shape:
        return found[1]
    keys = list(shape.keys)
    names = _read(cls, tuple(name for name in keys if name is not None), overridden)
    positions = [keys.index(name) for name in names]
    getter = itemgetter(*positions) if len(positions) > 1 else None
    reader = (names, getter if getter is not None else (lambda row: tuple(row[p] for p in positions)))
    if len(_readers) >= READERS_KEPT:
        _readers.clear()
    _readers[key] = (shape, reader)
    return reader


def from_row(cls: type[T], row: Any, **overrides: Any) -> T:
    """An instance of the Strawberry type `cls` whose fields are read from the same-named
    attributes of `row` (a plain row, app.db.columns, or an object); `overrides` supplies the
    fields that differ (ids, converted values)."""
    klass: Any = cls  # the caches key on the class
    if isinstance(row, Row):
        names, values_of = _reader(klass, row._parent, frozenset(overrides))
        values = dict(zip(names, values_of(row), strict=True))
    elif (columns := getattr(row, "_fields", None)) is not None:
        names = _read(klass, columns, frozenset(overrides))
        values = {name: getattr(row, name) for name in names}
    else:
        values = {
            name: getattr(row, name) for name in _field_names(klass) if name not in overrides and hasattr(row, name)
        }
    return cls(**values, **overrides)
