"""A selection's objects completed by one generated function each (docs/design.md, "Written
completion"; the figures in docs/benchmarks.md).

The executor's short way (`graphql_schema/execution.py`) still walks each object's fields one by
one: a loop over the fields, a test of each field's kind, a path and a dispatch on the return
type for each nested value. For a selection every field of which takes the short way, this module
writes that walk out once as Python source, for one object type, one collected selection and one
class of object: attribute reads, resolver calls, leaf coercions and nested completions in a row,
as a hand-written serializer would. Its code is compiled once per process (kept by its source);
each execution binds it to its own context, arguments and nested selections.

The generated function completes an object only when nothing unusual happens: a null where the
schema forbids one, a value a leaf refuses, an awaitable, a value of another class than its
type expects, an exception of any kind. Then it raises, nothing it computed is used, and the
executor completes that object its usual way, which reports the error exactly as graphql-core
does (tests/test_execution.py compares both ways, answers and errors). Resolvers the short way
calls are reads of what the request loaded (`@context_only`), so calling one again costs time,
never effects.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import CoroutineType, GeneratorType
from typing import Any, cast

from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLOutputType, is_leaf_type
from graphql.pyutils import Undefined
from strawberry.relay.utils import to_base64


class Unusual(Exception):
    """The generated function met something its usual way must handle."""


Site = Callable[[Any], Any]
"""Completes one nested object of a field (any class), or raises."""


def _leaves(coerce: Callable[[Any], Any], values: Any, non_null: bool) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if value is None:
            if non_null:
                raise Unusual
            out.append(None)
            continue
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise Unusual
        out.append(coerced)
    return out


def _objects(site: Site, values: Any, non_null: bool) -> list[Any]:
    if non_null:
        out = [site(value) for value in values if value is not None]
        if len(out) != len(values):
            raise Unusual
        return out
    return [None if value is None else site(value) for value in values]


NEVER_AWAITABLE = frozenset({type(None), bool, int, float, str, list, tuple, dict})
"""Classes of values that are never awaitable: completed values (an object, a list, a serialised
leaf), and the plain results of resolvers."""

_awaitable_classes: dict[type, bool] = {}


def _awaiting(value: Any) -> None:
    """Raises Unusual for an awaitable (one a resolver returned: closed, if a coroutine, since
    its usual way calls the resolver again). Asked once per class; a generator, which its flags
    make awaitable or not, is asked each time."""
    cls = value.__class__
    awaitable = _awaitable_classes.get(cls)
    if awaitable is None:
        if issubclass(cls, GeneratorType):
            awaitable = inspect.isawaitable(value)
        else:
            awaitable = _awaitable_classes[cls] = issubclass(cls, CoroutineType) or hasattr(cls, "__await__")
    if awaitable:
        close = getattr(value, "close", None)
        if close is not None:
            close()
        raise Unusual


@functools.lru_cache(maxsize=512)
def _code(source: str) -> Any:
    return compile(source, "<completion>", "exec")


class Writer:
    """The source of one selection's function, and what its names are bound to."""

    def __init__(self) -> None:
        self.lines = ["def complete(o):", " r = {}"]
        self.bound: dict[str, Any] = {
            "Unusual": Unusual,
            "UNDEFINED": Undefined,
            "to_base64": to_base64,
            "leaves": _leaves,
            "objects": _objects,
            "NEVER_AWAITABLE": NEVER_AWAITABLE,
            "awaiting": _awaiting,
        }

    def bind(self, value: Any) -> str:
        name = f"b{len(self.bound)}"
        self.bound[name] = value
        return name

    def line(self, depth: int, text: str) -> None:
        self.lines.append(" " * depth + text)

    def value(
        self, depth: int, target: str, return_type: GraphQLOutputType, site: Callable[[GraphQLObjectType], Site]
    ) -> bool:
        """Lines completing `v` for `return_type` into `target`; False when a type here is one
        the generated code does not complete (lists of lists, abstract types)."""
        if isinstance(return_type, GraphQLNonNull):
            self.line(depth, "if v is None: raise Unusual")
            return self._inner(depth, target, return_type.of_type, site)
        self.line(depth, f"if v is None: {target} = None")
        self.line(depth, "else:")
        return self._inner(depth + 1, target, return_type, site)

    def _inner(
        self, depth: int, target: str, return_type: GraphQLOutputType, site: Callable[[GraphQLObjectType], Site]
    ) -> bool:
        if is_leaf_type(return_type):
            coerce = self.bind(return_type.coerce_output_value)
            self.line(depth, f"x = {coerce}(v)")
            self.line(depth, "if x is None or x is UNDEFINED: raise Unusual")
            self.line(depth, f"{target} = x")
            return True
        if isinstance(return_type, GraphQLObjectType):
            self.line(depth, f"{target} = {self.bind(site(return_type))}(v)")
            return True
        if isinstance(return_type, GraphQLList):
            self.line(depth, "if v.__class__ is not list and v.__class__ is not tuple: raise Unusual")
            item = return_type.of_type
            non_null = isinstance(item, GraphQLNonNull)
            inner = item.of_type if isinstance(item, GraphQLNonNull) else item
            if is_leaf_type(inner):
                coerce = self.bind(inner.coerce_output_value)
                self.line(depth, f"{target} = leaves({coerce}, v, {non_null})")
                return True
            if isinstance(inner, GraphQLObjectType):
                self.line(depth, f"{target} = objects({self.bind(site(inner))}, v, {non_null})")
                return True
        return False

    def function(self) -> Callable[[Any], dict[str, Any]]:
        self.lines.append(" return r")
        namespace = dict(self.bound)
        exec(_code("\n".join(self.lines)), namespace)  # the source written above, from the schema
        return cast(Callable[[Any], dict[str, Any]], namespace["complete"])
