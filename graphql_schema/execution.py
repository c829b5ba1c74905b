"""How a selection set is executed: graphql-core's executor with a short way for plain leaves.

Most of an order tree is leaves read straight off an object (`number`, `displayName`, a line's
`quantity`): Strawberry gives such a field no resolver of its own, only its default attribute
read. graphql-core still builds a path, a resolve info and an argument map for each of them and
dispatches its value through the generic completion, which is most of the cost of a large tree
(docs/benchmarks.md). Here such a field is read and serialised at once: the attribute, then the
leaf type's own output coercion. Everything else (resolvers, objects, lists, abstract types,
arguments, directives handled by the collection step) goes the usual way, and so does any leaf
whose short way does not give a value: a null on a non-null field or a coercion that fails is
executed again the usual way, which raises the located error the specification asks for.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLField, GraphQLLeafType, GraphQLNonNull, GraphQLObjectType, is_leaf_type
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

# (attribute, leaf type, non-null) for a plain leaf field, None for any other field
_Plain = tuple[str, GraphQLLeafType, bool] | None
_plans: dict[int, tuple[GraphQLField, _Plain]] = {}


def _plain_leaf(field: GraphQLField) -> _Plain:
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if definition is None or not getattr(field.resolve, "_is_default", False) or field.args:
        return None
    return_type, non_null = field.type, False
    if isinstance(return_type, GraphQLNonNull):
        return_type, non_null = return_type.of_type, True
    if not is_leaf_type(return_type):
        return None
    return definition.python_name, return_type, non_null  # type: ignore[return-value]


def _plan(field: GraphQLField) -> _Plain:
    found = _plans.get(id(field))
    if found is None or found[0] is not field:
        found = _plans[id(field)] = (field, _plain_leaf(field))
    return found[1]


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_fields(  # type: ignore[override]
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        fields = parent_type.fields
        results: dict[str, Any] = {}
        rest: dict[str, Any] = {}
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            field = fields.get(node.name.value)
            plan = _plan(field) if field is not None and not node.arguments else None
            if plan is not None:
                attribute, leaf, non_null = plan
                try:
                    value = getattr(source_value, attribute)
                    if value is not None:
                        value = leaf.coerce_output_value(value)
                        if value is not None and value is not Undefined:
                            results[response_name] = value
                            continue
                    elif not non_null:
                        results[response_name] = None
                        continue
                except Exception:  # noqa: BLE001 - the usual way below raises the located error
                    pass
            rest[response_name] = field_details_list
            results[response_name] = None  # keeps the response's field order
        if not rest:
            return results
        done = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if self.is_awaitable(done):

            async def merged() -> dict[str, Any]:
                return _merged(results, rest, await done)

            return merged()
        return _merged(results, rest, done)


def _merged(results: dict[str, Any], rest: dict[str, Any], done: dict[str, Any]) -> dict[str, Any]:
    for name in rest:
        if name in done:
            results[name] = done[name]
        else:  # a field the executor leaves out of the response
            del results[name]
    return results
