"""Building GraphQL objects from database rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any, TypeVar, cast

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


Maker = Callable[[Any, dict[str, Any]], Any]
_makers: dict[tuple[type, int, tuple[str, ...]], tuple[Any, Maker]] = {}
MAKERS_KEPT = 4096


@lru_cache(maxsize=1024)
def _maker_code(source: str) -> Any:
    return compile(source, "<from_row>", "exec")


def _maker(cls: type, shape: Any, overridden: tuple[str, ...]) -> Maker:
    """For the rows of one result shape (a statement's result metadata, which SQLAlchemy keeps
    with the compiled statement and shares among its rows) and one set of overrides: a function
    written for them that builds an instance from a row's values by position, the overrides
    and the defaults of the rest. A row's `_fields` builds a new tuple at every call, and
    reading a row by name is a lookup per column: both were a fifth of a tree's completion; then
    zipping names with values and calling `__init__` with a keyword per field were a sixth of
    building an order page's objects (docs/benchmarks.md)."""
    key = (cls, id(shape), overridden)
    found = _makers.get(key)
    if found is not None and found[0] is shape:
        return found[1]
    keys = list(shape.keys)
    names = _read(cls, tuple(name for name in keys if name is not None), frozenset(overridden))
    items = [f"{name!r}: t[{keys.index(name)}]" for name in names]
    defaults, complete = _defaults(cls, set(names) | set(overridden))
    bound: dict[str, Any] = {"cls": cls, "new": object.__new__}
    if complete and _generated_init(cls):
        # what the generated `__init__` does (assign each field), without the call
        for index, (name, default, factory) in enumerate(defaults):
            bound[f"d{index}"] = default
            items.append(f"{name!r}: d{index}()" if factory else f"{name!r}: d{index}")
        made = " o = new(cls)\n o.__dict__ = {%}\n return o"
    else:  # `__init__` of its own, or `__post_init__`, or a field missing (its TypeError)
        made = " return cls(**{%})"
    made = made.replace("%", ", ".join([*items, "**overrides"]))
    namespace = dict(bound)
    exec(_maker_code(f"def make(row, overrides):\n t = row._data\n{made}\n"), namespace)  # from the class's fields
    maker = cast(Maker, namespace["make"])
    if len(_makers) >= MAKERS_KEPT:
        _makers.clear()
    _makers[key] = (shape, maker)
    return maker


def from_row(cls: type[T], row: Any, **overrides: Any) -> T:
    """An instance of the Strawberry type `cls` whose fields are read from the same-named
    attributes of `row` (a plain row, app.db.columns, or an object); `overrides` supplies the
    fields that differ (ids, converted values)."""
    klass: Any = cls  # the caches key on the class
    if isinstance(row, Row):
        return cast(T, _maker(klass, row._parent, tuple(overrides))(row, overrides))
    if (columns := getattr(row, "_fields", None)) is not None:
        names = _read(klass, columns, frozenset(overrides))
        values = {name: getattr(row, name) for name in names}
    else:
        values = {
            name: getattr(row, name) for name in _field_names(klass) if name not in overrides and hasattr(row, name)
        }
    return cls(**values, **overrides)
