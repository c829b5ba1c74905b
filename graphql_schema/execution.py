"""How a selection set is executed: graphql-core's executor, with a short way for the fields
that make up most of a large tree.

An order page of 50 is some 6,000 fields. graphql-core builds a path, a resolve info and an
argument map for each, Strawberry an `Info` and its extension chain for each field with a
resolver, and every value goes through the generic completion: that machinery, not the data,
was most of the cost of a tree (docs/benchmarks.md). Three kinds of field take a shorter way:

- a field Strawberry reads straight off the object (no resolver: `number`, a line's
  `quantity`, a connection's `nodes`);
- a resolver marked `@context_only` (below), called as a plain function with the request's
  context (and its arguments, when they are all built-in scalars, coerced once per execution):
  the nested relations of the read path (an order's lines, a contact's ancestors, a status
  history's page), which resolve synchronously from what their page loaded in bulk;
- Strawberry's `Node.id`, for types that keep Strawberry's own `resolve_id`/`resolve_typename`.

Their values are completed here: leaves through their type's own output coercion, lists item by
item, objects by executing their selection (again here, field by field). Anything else — a field
with arguments or permission checks, abstract types, a null where the schema forbids one, a
value of the wrong type — goes graphql-core's usual way, which raises the located error the
specification asks for. Errors raised while completing are handled as graphql-core handles
them (`handle_field_error`): null for a nullable field, propagated for a non-null one.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import keyword
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar, cast

from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined
from strawberry.relay import Node
from strawberry.relay.utils import to_base64
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

from graphql_schema.compiled import NEVER_AWAITABLE, Site, Unusual, Writer

F = TypeVar("F", bound=Callable[..., Any])


def context_only(resolver: F) -> F:
    """Mark a resolver that reads nothing of its `info` but `info.context` (and takes no
    arguments but built-in scalars): the executor may call it with `ContextInfo` instead of
    building a full `Info`."""
    setattr(resolver, "_context_only", True)  # noqa: B010 - a mark read back with getattr
    return resolver


@dataclass(frozen=True, slots=True)
class ContextInfo:
    """The `info` a `@context_only` resolver receives: the request's context, nothing else."""

    context: Any


class _Slow(Exception):
    """This value takes graphql-core's way (raised before anything was executed for it)."""


_ATTRIBUTE, _RESOLVER, _NODE_ID = 1, 2, 3


@dataclass(frozen=True, slots=True)
class _Plan:
    kind: int
    name: str  # the Python attribute (or, for _NODE_ID, the type's name)
    return_type: GraphQLOutputType
    call: Callable[..., Any] | None = None
    takes_info: bool = False
    leaf: Any = None  # an attribute read as a leaf: its leaf type, completed inline
    non_null: bool = False
    takes_arguments: bool = False  # a resolver whose arguments are built-in scalars
    arguments: dict[str, Any] | None = None  # and, in a step's copy, their values in this execution


_PLAIN_ARGUMENTS = frozenset({"Int", "Float", "String", "Boolean", "ID"})
"""Argument types Strawberry hands to a resolver as graphql-core coerced them."""


def _plain_arguments(field: GraphQLField, definition: Any) -> bool:
    """Every argument of `field` is a built-in scalar named as the resolver's parameter."""
    python_names = {argument.python_name for argument in definition.arguments}
    for name, argument in field.args.items():
        named = argument.type.of_type if isinstance(argument.type, GraphQLNonNull) else argument.type
        if name not in python_names or getattr(named, "name", None) not in _PLAIN_ARGUMENTS:
            return False
    return True


_plans: dict[int, tuple[GraphQLField, _Plan | None]] = {}


def _make_plan(parent: GraphQLObjectType, field: GraphQLField) -> _Plan | None:
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if definition is None or definition.extensions:
        return None
    if field.args and not _plain_arguments(field, definition):
        return None
    if getattr(field.resolve, "_is_default", False):
        non_null = isinstance(field.type, GraphQLNonNull)
        inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        return _Plan(
            _ATTRIBUTE,
            definition.python_name,
            field.type,
            leaf=inner if is_leaf_type(inner) else None,
            non_null=non_null,
        )
    resolver = definition.base_resolver
    if resolver is None:
        return None
    function = resolver.wrapped_func
    if getattr(function, "_context_only", False):
        return _Plan(
            _RESOLVER,
            definition.python_name,
            field.type,
            function,
            takes_info=len(inspect.signature(function).parameters) > 1,
            takes_arguments=bool(field.args),
        )
    if field.args:
        return None
    if getattr(function, "__func__", function) is getattr(Node._id, "__func__", None):
        return _Plan(_NODE_ID, parent.name, field.type)
    return None


def _plan(parent: GraphQLObjectType, field: GraphQLField) -> _Plan | None:
    found = _plans.get(id(field))
    if found is None or found[0] is not field:
        found = _plans[id(field)] = (field, _make_plan(parent, field))
    return found[1]


_node_ids: dict[type, str | None] = {}


def _node_id_attribute(cls: type) -> str | None:
    """The attribute holding the id of a Node class whose id Strawberry computes its own way (no
    override of `resolve_id` or `resolve_typename`): the short way computes it the same. None for
    anything else. Worked out once per class."""
    if cls in _node_ids:
        return _node_ids[cls]
    default = (
        issubclass(cls, Node)
        and getattr(cls.resolve_id, "__func__", None) is getattr(Node.resolve_id, "__func__", None)
        and getattr(cls.resolve_typename, "__func__", None) is getattr(Node.resolve_typename, "__func__", None)
    )
    found = _node_ids[cls] = cast(Any, cls).resolve_id_attr() if default else None
    return found


class Executor(StrawberryGraphQLCoreExecutionContext):
    @functools.cached_property
    def _context_info(self) -> ContextInfo:
        """What every `@context_only` resolver of this execution receives."""
        return ContextInfo(self.context_value)

    @functools.cached_property
    def _step_cache(self) -> dict[int, tuple[Any, list[tuple[str, Any, _Plan | None]]]]:
        return {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        straight = self._straight(parent_type, grouped_field_set, source_value.__class__)
        if straight is not None:
            try:
                return straight[1](source_value)
            except Exception:  # the usual way below meets it again, and reports it
                straight[2] += 1
                if straight[2] > _UNUSUAL_KEPT:
                    straight[1] = None
        results: dict[str, Any] = {}
        rest: dict[str, Any] | None = None
        pending: list[str] | None = None
        for response_name, field_details_list, plan in self._steps(parent_type, grouped_field_set):
            if plan is not None:
                leaf = plan.leaf
                if leaf is not None:  # the bulk of a tree: inline
                    value = getattr(source_value, plan.name, Undefined)
                    if value is None:
                        if not plan.non_null:
                            results[response_name] = None
                            continue
                    elif value is not Undefined:
                        value = leaf.coerce_output_value(value)
                        if value is not None and value is not Undefined:
                            results[response_name] = value
                            continue
                else:
                    try:
                        value = self._shortly(plan, parent_type, source_value, field_details_list, path, response_name)
                    except _Slow:
                        pass
                    else:
                        results[response_name] = value
                        if type(value) not in NEVER_AWAITABLE and self.is_awaitable(value):
                            pending = [*(pending or ()), response_name]
                        continue
            if rest is None:
                rest = {}
            rest[response_name] = field_details_list
            results[response_name] = None  # keeps the response's field order
        if rest is None:  # every field the short way: the usual case of a tree's objects
            return results if pending is None else self._gathered(results, {}, {}, pending)
        done = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if pending or self.is_awaitable(done):
            return self._gathered(results, rest, done, pending or [])
        return _merged(results, rest, cast(dict[str, Any], done))

    @functools.cached_property
    def _straight_cache(self) -> dict[tuple[Any, int, type], list[Any]]:
        return {}

    def _straight(self, parent_type: GraphQLObjectType, grouped_field_set: Any, cls: type) -> list[Any] | None:
        """[selection, its generated function, times it met something unusual] for objects of
        `cls` (`graphql_schema/compiled.py`), or None when the selection has a field only the
        usual way completes. Written once per selection and class in an execution."""
        key = (parent_type, id(grouped_field_set), cls)
        found = self._straight_cache.get(key)
        if found is None or found[0] is not grouped_field_set:
            found = self._straight_cache[key] = [
                grouped_field_set,
                self._written(parent_type, grouped_field_set, cls),
                0,
            ]
        return found if found[1] is not None else None

    def _written(self, parent_type: GraphQLObjectType, grouped_field_set: Any, cls: type) -> Any:
        # never with middlewares: `execute_fields` takes graphql-core's way for every field then
        writer = Writer()
        for response_name, fields, plan in self._steps(parent_type, grouped_field_set):
            target = f"r[{response_name!r}]"
            if plan is None:
                if fields[0].node.name.value != "__typename":
                    return None
                writer.line(1, f"{target} = {parent_type.name!r}")
                continue
            if plan.kind == _NODE_ID:
                attribute = _node_id_attribute(cls)
                if attribute is None or not _attribute_name(attribute):
                    return None
                writer.line(1, f"{target} = to_base64({plan.name!r}, str(o.{attribute}))")
                continue
            if plan.kind == _ATTRIBUTE:
                if not _attribute_name(plan.name):
                    return None
                writer.line(1, f"v = o.{plan.name}")
            else:
                call = writer.bind(plan.call)
                given = ["o"]
                if plan.takes_info:
                    given.append(writer.bind(self._context_info))
                if plan.arguments:
                    given.append(f"**{writer.bind(plan.arguments)}")
                writer.line(1, f"v = {call}({', '.join(given)})")
                writer.line(1, "if v.__class__ not in NEVER_AWAITABLE: awaiting(v)")
            if not writer.value(1, target, plan.return_type, functools.partial(self._site, fields)):
                return None
        return writer.function()

    def _site(self, fields: Any, object_type: GraphQLObjectType) -> Site:
        """Completes the objects of one field, whatever their class, by their generated function."""
        by_class: dict[type, Any] = {}

        def complete(value: Any) -> Any:
            function = by_class.get(value.__class__)
            if function is None:
                function = by_class[value.__class__] = self._function_for(object_type, fields, value)
            return function(value)

        return complete

    def _function_for(self, object_type: GraphQLObjectType, fields: Any, value: Any) -> Any:
        try:
            grouped = self._subfields(object_type, fields, value)
        except _Slow:
            return _unusual
        found = self._straight(object_type, grouped, value.__class__)
        return found[1] if found is not None else _unusual

    def _steps(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[tuple[str, Any, _Plan | None]]:
        """Each field of a collected selection with its plan, worked out once per selection (the
        objects of a list share theirs)."""
        cache = self._step_cache
        found = cache.get(id(grouped_field_set))
        if found is None or found[0] is not grouped_field_set:
            fields = parent_type.fields
            steps = []
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                field = fields.get(node.name.value)
                plan = _plan(parent_type, field) if field is not None else None
                if plan is not None and plan.takes_arguments:
                    try:  # the variables are fixed for the execution: coerced once per selection
                        arguments = get_argument_values(cast(GraphQLField, field), node, self.variable_values)
                    except GraphQLError:
                        plan = None  # the usual way reports it
                    else:
                        plan = replace(plan, arguments=arguments)
                elif node.arguments:
                    plan = None
                steps.append((response_name, field_details_list, plan))
            found = cache[id(grouped_field_set)] = (grouped_field_set, steps)
        return found[1]

    async def _gathered(self, results: dict[str, Any], rest: dict[str, Any], done: Any, pending: list[str]) -> Any:
        # all at once, the usual way's fields with the short way's: their loaders batch together
        waiting = [results[name] for name in pending]
        later = self.is_awaitable(done)
        values = await asyncio.gather(*waiting, *([done] if later else []))
        results.update(zip(pending, values, strict=False))
        return _merged(results, rest, values[-1] if later else done)

    def _shortly(
        self, plan: _Plan, parent_type: GraphQLObjectType, source: Any, fields: Any, path: Path | None, name: str
    ) -> Any:
        """The completed value of one field, or _Slow before anything was done for it."""
        field_path = Path(path, name, parent_type.name)
        if plan.kind == _ATTRIBUTE:
            value = getattr(source, plan.name, Undefined)
            if value is Undefined:
                raise _Slow
        elif plan.kind == _NODE_ID:
            attribute = _node_id_attribute(type(source))
            if attribute is None:
                raise _Slow
            # what Strawberry's GlobalID serializes to, without the object
            value = to_base64(plan.name, str(getattr(source, attribute)))
        else:
            try:
                call = cast(Any, plan.call)  # a resolver's plan has its function
                kwargs = plan.arguments or {}
                value = call(source, self._context_info, **kwargs) if plan.takes_info else call(source, **kwargs)
            except Exception as error:
                self.handle_field_error(error, plan.return_type, fields, field_path)
                return None
            if self.is_awaitable(value):
                return self._completed_later(plan, parent_type, fields, field_path, value)
        return_type = plan.return_type
        try:
            completed = self._complete(return_type, fields, field_path, value)
        except _Slow:
            if plan.kind != _RESOLVER:
                raise  # nothing was done: the usual way reads the field again
            # the resolver ran: its value is completed the usual way, with the usual error
            return self._complete_usual(plan, parent_type, fields, field_path, value)
        except Exception as error:  # as graphql-core: null for a nullable field, raised for a non-null one
            self.handle_field_error(error, return_type, fields, field_path)
            return None
        if type(completed) not in NEVER_AWAITABLE and self.is_awaitable(completed):
            return self._awaited(return_type, fields, field_path, completed)
        return completed

    def _handled(self, return_type: GraphQLOutputType, fields: Any, path: Path, complete: Callable[[], Any]) -> Any:
        """`complete()` with a field's errors handled as graphql-core handles them (null for a
        nullable field, raised for a non-null one), now or when its awaitable settles; _Slow
        passes through."""
        try:
            completed = complete()
        except _Slow:
            raise
        except Exception as error:
            self.handle_field_error(error, return_type, fields, path)
            return None
        if self.is_awaitable(completed):
            return self._awaited(return_type, fields, path, completed)
        return completed

    def _complete_usual(self, plan: _Plan, parent_type: GraphQLObjectType, fields: Any, path: Path, value: Any) -> Any:
        field = parent_type.fields[fields[0].node.name.value]
        info = self.build_resolve_info(field, [f.node for f in fields], parent_type, path)
        return self._handled(
            plan.return_type,
            fields,
            path,
            lambda: self.complete_value(plan.return_type, fields, info, path, value, None),
        )

    async def _completed_later(
        self, plan: _Plan, parent_type: GraphQLObjectType, fields: Any, path: Path, pending: Any
    ) -> Any:
        try:
            value = await pending
        except Exception as error:
            self.handle_field_error(error, plan.return_type, fields, path)
            return None
        try:
            completed = self._complete(plan.return_type, fields, path, value)
        except _Slow:
            completed = self._complete_usual(plan, parent_type, fields, path, value)
        except Exception as error:
            self.handle_field_error(error, plan.return_type, fields, path)
            return None
        if self.is_awaitable(completed):
            return await self._awaited(plan.return_type, fields, path, completed)
        return completed

    async def _awaited(self, return_type: GraphQLOutputType, fields: Any, path: Path, completed: Any) -> Any:
        try:
            return await completed
        except Exception as error:
            self.handle_field_error(error, return_type, fields, path)
            return None

    def _complete(self, return_type: GraphQLOutputType, fields: Any, path: Path, value: Any) -> Any:
        """`value` completed for `return_type`; _Slow (before any field below was executed)
        when it takes graphql-core's way."""
        if isinstance(return_type, GraphQLNonNull):
            if value is None:
                raise _Slow
            return_type = return_type.of_type
        elif value is None:
            return None
        if isinstance(return_type, GraphQLList):
            return self._complete_list(return_type.of_type, fields, path, value)
        if is_leaf_type(return_type):
            coerced = return_type.coerce_output_value(value)
            if coerced is None or coerced is Undefined:
                raise _Slow
            return coerced
        if isinstance(return_type, GraphQLObjectType):
            subfields = self._subfields(return_type, fields, value)
            return self.execute_fields(return_type, value, path, subfields, None)
        raise _Slow  # abstract types

    @functools.cached_property
    def _subfield_cache(self) -> dict[tuple[Any, int, type], tuple[Any, Any]]:
        return {}

    def _subfields(self, object_type: GraphQLObjectType, fields: Any, value: Any) -> Any:
        """The collected selection of `fields` on `object_type` for `value`, checked and collected
        once per selection and class of value in an execution (Strawberry's is_type_of reads the
        value's class, never its info)."""
        key = (object_type, id(fields), type(value))
        found = self._subfield_cache.get(key)
        if found is not None and found[0] is fields:
            return found[1]
        if object_type.is_type_of is not None and not object_type.is_type_of(value, cast(Any, None)):
            raise _Slow
        grouped, new_defer_usages, *_ = self.collect_subfields(object_type, fields)
        if new_defer_usages:
            raise _Slow
        self._subfield_cache[key] = (fields, grouped)
        return grouped

    def _complete_list(self, item_type: GraphQLOutputType, fields: Any, path: Path, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise _Slow
        required = isinstance(item_type, GraphQLNonNull)
        inner = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if required and any(item is None for item in value):
            raise _Slow
        if isinstance(inner, GraphQLObjectType):
            # every item checked before any is executed; items of one class are checked once
            # (Strawberry's is_type_of reads the item's class), and the selection is the same for all
            subfields = None
            checked: type | None = None
            for item in value:
                if item is not None and type(item) is not checked:
                    subfields = self._subfields(inner, fields, item)
                    checked = type(item)
            completed: list[Any] = []
            execute = self.execute_fields
            waiting = False
            for index, item in enumerate(value):
                if item is None:
                    completed.append(None)
                    continue
                item_path = Path(path, index, None)
                try:
                    done = execute(inner, item, item_path, subfields, None)
                except Exception as error:  # at the item, as graphql-core: null, or raised when non-null
                    self.handle_field_error(error, item_type, fields, item_path)
                    done = None
                else:
                    if type(done) is not dict and self.is_awaitable(done):  # a completed object is a dict
                        done = self._awaited(item_type, fields, item_path, done)
                        waiting = True
                completed.append(done)
            return _all(completed, self.is_awaitable) if waiting else completed
        if is_leaf_type(inner):  # serialised values: nothing to wait for
            return [self._complete(item_type, fields, path, item) for item in value]
        raise _Slow  # lists of lists, of abstract types


_UNUSUAL_KEPT = 2
"""A selection's generated function that met something unusual more often than this in an
execution is left alone for the rest of it (each time, its object was completed twice)."""


def _unusual(value: Any) -> Any:
    raise Unusual


def _attribute_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


async def _all(items: list[Any], is_awaitable: Callable[[Any], bool]) -> list[Any]:
    waiting = [index for index, item in enumerate(items) if is_awaitable(item)]
    for index, value in zip(waiting, await asyncio.gather(*(items[i] for i in waiting)), strict=True):
        items[index] = value
    return items


def _merged(results: dict[str, Any], rest: dict[str, Any], done: dict[str, Any]) -> dict[str, Any]:
    for name in rest:
        if name in done:
            results[name] = done[name]
        else:  # a field the executor leaves out of the response
            del results[name]
    return results
