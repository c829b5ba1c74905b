"""Document limits, checked in time linear in the document before any other validation.

graphql-core's validation and a naive depth walker both do work proportional to the document
*after* fragment expansion: a chain of fragments that each spread the previous one twice
(`fragment L1 on Query { ...L0 ...L0 }` … `L21`) expands to millions of fields from under a
kilobyte, and the rule that checks whether same-named fields can be merged compares every pair
of them. So this pass runs first and alone:

1. it counts the fragment definitions and refuses unknown and cyclic spreads;
2. it measures every fragment once (depth, fields and aliases after expansion, saturated at the
   limit) and reuses the measure wherever the fragment is spread: depth, aliases and fields of
   the whole document are known without expanding anything;
3. only when those are within their limits, so that the expansion is known to be small, it
   counts the field pairs that the merge check will compare (fields sharing a response name in
   one selection set, fragments and inline fragments merged in) and refuses past a bound.

Only then does graphql-core validate, with work bounded by these limits. Each refusal is a
validation error (`extensions.code` GRAPHQL_VALIDATION_FAILED); nothing has run. The limits are
settings (docs/design.md, "Limits").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    max_depth: int
    """Nesting of the deepest field; root fields are at 0."""
    max_aliases: int
    """Aliased fields, after fragment expansion, in the whole document."""
    max_fields: int
    """Fields after fragment expansion, in the whole document."""
    max_fragments: int
    """Fragment definitions in the document."""
    max_field_merges: int
    """Pairs of same-named fields in one selection set that must be checked for merging."""


@dataclass(frozen=True, slots=True)
class _Measure:
    depth: int
    fields: int
    aliases: int


_EMPTY = _Measure(depth=0, fields=0, aliases=0)


class _Refused(Exception):
    def __init__(self, error: GraphQLError) -> None:
        self.error = error


class _Measurer:
    """Measures selection sets; each fragment once (memoised), spreads reuse its measure."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode], limits: DocumentLimits) -> None:
        self.fragments = fragments
        self.limits = limits
        self.done: dict[str, _Measure] = {}
        self.in_progress: list[str] = []

    def _cap(self, value: int, limit: int) -> int:
        # saturate: doubling fragments would otherwise build integers with thousands of digits
        return min(value, limit + 1)

    def selection_set(self, node: SelectionSetNode | None) -> _Measure:
        if node is None:
            return _EMPTY
        depth = fields = aliases = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                inner = self.selection_set(selection.selection_set)
                depth = max(depth, inner.depth + 1 if selection.selection_set else 0)
                fields += 1 + inner.fields
                aliases += (selection.alias is not None) + inner.aliases
            else:
                inner = (
                    self.fragment(selection)
                    if isinstance(selection, FragmentSpreadNode)
                    else self.selection_set(cast(InlineFragmentNode, selection).selection_set)
                )
                depth = max(depth, inner.depth)
                fields += inner.fields
                aliases += inner.aliases
            if depth > self.limits.max_depth:
                # deeper nesting adds nothing but work: stop here
                return _Measure(depth=depth, fields=fields, aliases=aliases)
        return _Measure(
            depth=depth,
            fields=self._cap(fields, self.limits.max_fields),
            aliases=self._cap(aliases, self.limits.max_aliases),
        )

    def fragment(self, spread: FragmentSpreadNode) -> _Measure:
        name = spread.name.value
        if name in self.done:
            return self.done[name]
        definition = self.fragments.get(name)
        if definition is None:
            raise _Refused(GraphQLError(f"Unknown fragment '{name}'.", spread))
        if name in self.in_progress:
            via = self.in_progress[self.in_progress.index(name) + 1 :]
            path = f" via {', '.join(repr(n) for n in via)}" if via else ""
            raise _Refused(GraphQLError(f"Cannot spread fragment '{name}' within itself{path}.", spread))
        self.in_progress.append(name)
        measure = self.selection_set(definition.selection_set)
        self.in_progress.pop()
        self.done[name] = measure
        return measure


def _field_merges(roots: list[SelectionSetNode], fragments: dict[str, FragmentDefinitionNode], bound: int) -> int:
    """Pairs of fields sharing a response name in one (merged) selection set, over the whole
    expanded document, counted up to `bound` + 1. Called only once the expansion is known to be
    small, so expanding is cheap."""

    def flatten(selection_set: SelectionSetNode, into: dict[str, list[SelectionSetNode | None]]) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                into[key].append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                flatten(fragments[selection.name.value].selection_set, into)
            elif isinstance(selection, InlineFragmentNode):
                flatten(selection.selection_set, into)

    pairs = 0
    pending: list[list[SelectionSetNode]] = [[root] for root in roots]
    while pending:
        by_key: dict[str, list[SelectionSetNode | None]] = defaultdict(list)
        for selection_set in pending.pop():
            flatten(selection_set, by_key)
        for children in by_key.values():
            pairs += len(children) * (len(children) - 1) // 2
            if pairs > bound:
                return pairs
            merged = [child for child in children if child is not None]
            if merged:
                pending.append(merged)
    return pairs


def check_document(document: DocumentNode, limits: DocumentLimits) -> list[GraphQLError]:
    """The error of the first limit the document breaks (none when it keeps them all)."""
    operations: list[OperationDefinitionNode] = []
    fragments: dict[str, FragmentDefinitionNode] = {}
    count = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            operations.append(definition)
        elif isinstance(definition, FragmentDefinitionNode):
            count += 1
            # a duplicate name is reported by graphql-core's own (linear) rule; the first counts
            fragments.setdefault(definition.name.value, definition)
    if count > limits.max_fragments:
        return [GraphQLError(f"The document defines {count} fragments; at most {limits.max_fragments} are allowed.")]

    measurer = _Measurer(fragments, limits)
    fields = aliases = 0
    try:
        for operation in operations:
            measure = measurer.selection_set(operation.selection_set)
            if measure.depth > limits.max_depth:
                name = operation.name.value if operation.name else "anonymous"
                return [GraphQLError(f"'{name}' exceeds maximum operation depth of {limits.max_depth}", operation)]
            fields += measure.fields
            aliases += measure.aliases
        # graphql-core validates fragments that no operation spreads as well: they count too
        for definition in fragments.values():
            if definition.name.value in measurer.done:
                continue
            measure = measurer.fragment(FragmentSpreadNode(name=definition.name))
            if measure.depth > limits.max_depth:
                name = definition.name.value
                return [
                    GraphQLError(f"Fragment '{name}' exceeds maximum operation depth of {limits.max_depth}", definition)
                ]
            fields += measure.fields
            aliases += measure.aliases
    except _Refused as refused:
        return [refused.error]
    if aliases > limits.max_aliases:
        return [GraphQLError(f"More than {limits.max_aliases} aliases found. Allowed: {limits.max_aliases}")]
    if fields > limits.max_fields:
        return [
            GraphQLError(f"The document selects more than {limits.max_fields} fields once its fragments are expanded.")
        ]
    roots = [operation.selection_set for operation in operations] + [f.selection_set for f in fragments.values()]
    if _field_merges(roots, fragments, limits.max_field_merges) > limits.max_field_merges:
        return [
            GraphQLError(
                "The document repeats fields under one name too often: more than "
                f"{limits.max_field_merges} pairs of same-named fields would have to be compared."
            )
        ]
    return []
