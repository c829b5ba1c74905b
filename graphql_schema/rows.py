"""Building GraphQL objects from database rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
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


@cache
def _generated_init(cls: type) -> bool:
    """`cls.__init__` is the one `dataclasses` wrote (it assigns each init field, nothing else),
    and no `__post_init__` follows it."""
    init = getattr(cls, "__init__", None)
    code = getattr(init, "__code__", None)
    return (
        dataclasses.is_dataclass(cls)
        and code is not None
        and code.co_filename == "<string>"  # written by dataclasses' exec
        and not hasattr(cls, "__post_init__")
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _Reader:
    """How to build an instance from the rows of one shape."""

    names: tuple[str, ...]  # the fields read from the row, in `values` order
    values: Callable[[Any], tuple[Any, ...]]
    defaults: tuple[tuple[str, Any, bool], ...]  # (field, default, is a factory) for the fields not given
    direct: bool  # the instance may be made without calling `__init__`


def _defaults(cls: type, given: set[str]) -> tuple[tuple[tuple[str, Any, bool], ...], bool]:
    """The defaults of the init fields not in `given`; False when one has none (`__init__`
    then raises its TypeError, as it always did)."""
    found = []
    for field in dataclasses.fields(cls):
        if not field.init or field.name in given:
            continue
        if field.default is not dataclasses.MISSING:
            found.append((field.name, field.default, False))
        elif field.default_factory is not dataclasses.MISSING:
            found.append((field.name, field.default_factory, True))
        else:
            return (), False
    return tuple(found), True


_readers: dict[tuple[type, int, frozenset[str]], tuple[Any, _Reader]] = {}
READERS_KEPT = 4096


def _reader(cls: type, shape: Any, overridden: frozenset[str]) -> _Reader:
    """For the rows of one result shape (a statement's result metadata, which SQLAlchemy keeps
    with the compiled statement and shares among its rows): the fields of `cls` they supply, a
    getter of their values by position, and the defaults of the rest. A row's `_fields` builds
    a new tuple at every call, and reading a row by name is a lookup per column: both were a
    fifth of a tree's completion (docs/benchmarks.md)."""
    key = (cls, id(shape), overridden)
    found = _readers.get(key)
    if found is not None and found[0] is shape:
        return found[1]
    keys = list(shape.keys)
    names = _read(cls, tuple(name for name in keys if name is not None), overridden)
    positions = [keys.index(name) for name in names]
    getter = itemgetter(*positions) if len(positions) > 1 else None
    defaults, complete = _defaults(cls, set(names) | overridden)
    reader = _Reader(
        names,
        getter if getter is not None else (lambda row: tuple(row[p] for p in positions)),
        defaults,
        complete and _generated_init(cls),
    )
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
        reader = _reader(klass, row._parent, frozenset(overrides))
        values = dict(zip(reader.names, reader.values(row), strict=True))
        values.update(overrides)
        if not reader.direct:
            return cls(**values)
        for name, default, factory in reader.defaults:
            values[name] = default() if factory else default
        # what the generated `__init__` does (assign each field), without a call with a keyword
        # argument per field: a sixth of building an order page's objects (docs/benchmarks.md)
        instance = object.__new__(klass)
        instance.__dict__ = values
        return instance
    if (columns := getattr(row, "_fields", None)) is not None:
        names = _read(klass, columns, frozenset(overrides))
        values = {name: getattr(row, name) for name in names}
    else:
        values = {
            name: getattr(row, name) for name in _field_names(klass) if name not in overrides and hasattr(row, name)
        }
    return cls(**values, **overrides)
