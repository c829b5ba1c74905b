"""The estimated cost of an operation, known before anything runs (docs/design.md, "Cost").

Like the large public GraphQL APIs, the estimate counts the objects an operation may return,
each costing one; a scalar costs nothing. A connection (a field paged by `first`/`last`) is
one object, and its `nodes`/`edges` as many as its page may hold: the argument, a variable's
value, or the default page of 20 when neither is given. `nodes(ids:)` returns as many objects as
ids are given; an unpaged list (an order's lines, a contact's ancestors) counts as
`UNPAGED_LIST` objects. Below a list, everything counts once per item.

The operation is refused when the estimate is over `CHARGECARS_MAX_QUERY_COST`, and every
answer reports `extensions.cost` (`requested`, `limit`) so that clients can see their budget.
The document is bounded by the document limits (`graphql_schema/limits.py`) before this walk,
so the walk is small.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)
from graphql.utilities import get_operation_ast

UNPAGED_LIST = 10
"""What an unpaged list is counted as (the lines of an order, the ancestors of a contact)."""
DEFAULT_PAGE = 20
"""A paged field's page when neither `first` nor `last` is given (graphql_schema/pagination.py)."""


def estimate(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    walk = _Walk(schema, document, variables or {})
    return walk.cost(operation.selection_set, root, 1)


def _is_list(output: GraphQLOutputType) -> bool:
    if isinstance(output, GraphQLNonNull):
        output = output.of_type
    return isinstance(output, GraphQLList)


class _Walk:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

    def cost(self, selection_set: SelectionSetNode, parent: GraphQLNamedType, times: int, page: int = 1) -> int:
        """What `selection_set` on `parent` costs when `parent` is returned `times` times (and,
        for a connection, its page holds `page` items)."""
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, times, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.cost(selection.selection_set, target or parent, times, page)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.cost(fragment.selection_set, target or parent, times, page)
        return total

    def _field(self, node: FieldNode, parent: GraphQLNamedType, times: int, page: int) -> int:
        fields = getattr(parent, "fields", None)
        definition = fields.get(node.name.value) if fields else None
        if definition is None or node.selection_set is None:
            return 0  # a scalar, `__typename`, or a field validation refuses
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        if "first" in definition.args or "last" in definition.args:  # a connection: one object, a page below
            size = next(
                (value for name in ("first", "last") if (value := self._int(arguments.get(name))) is not None),
                DEFAULT_PAGE,
            )
            return times + self.cost(node.selection_set, named, times, max(size, 0))
        if parent.name.endswith("Connection") and node.name.value in ("nodes", "edges"):
            count = page
        elif "ids" in definition.args:
            count = self._count(arguments.get("ids"))
        elif _is_list(definition.type):
            count = UNPAGED_LIST
        else:
            count = 1
        return times * count + self.cost(node.selection_set, named, times * count)

    def _count(self, ids: Any) -> int:
        if isinstance(ids, ListValueNode):
            return len(ids.values)
        if isinstance(ids, VariableNode):
            given = self.variables.get(ids.name.value)
            return len(given) if isinstance(given, list) else UNPAGED_LIST
        return UNPAGED_LIST

    def _int(self, value: Any) -> int | None:
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            given = self.variables.get(value.name.value)
            return given if isinstance(given, int) and not isinstance(given, bool) else None
        return None
