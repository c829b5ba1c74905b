"""Global IDs and `node(id:)` / `nodes(ids:)`.

Each Node type registers how to load a batch of its ids for the current viewer (through its
loader, so the scope applies); an id the viewer may not see resolves to null, exactly like one
that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from strawberry import relay
from strawberry.types import Info

from app.errors import NotFound, ValidationFailed

NodeLoader = Callable[[Info, Sequence[uuid.UUID]], Awaitable[Sequence[Any]]]
_REGISTRY: dict[str, NodeLoader] = {}


def register_node(type_name: str, load: NodeLoader) -> None:
    _REGISTRY[type_name] = load


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def plain_id(value: Any, *, entity: str, field: str) -> uuid.UUID:
    """The id of a row that is not a Node (an order line, an invoice line): a UUID, or NotFound."""
    found = parse_uuid(str(value))
    if found is None:
        raise NotFound(entity, str(value), field=field)
    return found


def global_id(type_name: str, value: uuid.UUID) -> str:
    """The global id a client sees for the object `value` of the GraphQL type `type_name`."""
    return str(relay.GlobalID(type_name, str(value)))


def decode_id(global_id: relay.GlobalID, *, expected: str, field: str) -> uuid.UUID:
    """The UUID inside a global id given as input; a typed validation error otherwise."""
    value = parse_uuid(global_id.node_id) if global_id.type_name == expected else None
    if value is None:
        raise ValidationFailed(f"Not the id of a {expected}.", field=field)
    return value


def argument_id(global_id: relay.GlobalID | None, *, expected: str, field: str) -> uuid.UUID | None:
    """A query's optional id argument (a filter's): None when absent; a wrong one is refused as
    BAD_USER_INPUT naming `field`."""
    if global_id is None:
        return None
    try:
        return decode_id(global_id, expected=expected, field=field)
    except ValidationFailed as exc:
        from graphql_schema.errors import bad_input

        raise bad_input(f"{field}: {exc.message}") from None


async def resolve_nodes(info: Info, ids: Sequence[relay.GlobalID]) -> list[Any]:
    """Nodes in the order asked, null where unknown or not visible; one batch per type."""
    result: list[Any] = [None] * len(ids)
    wanted: dict[str, list[tuple[int, uuid.UUID]]] = {}
    for index, global_id in enumerate(ids):
        value = parse_uuid(global_id.node_id)
        if value is not None and global_id.type_name in _REGISTRY:
            wanted.setdefault(global_id.type_name, []).append((index, value))
    for type_name, entries in wanted.items():
        found = await _REGISTRY[type_name](info, [value for _, value in entries])
        for (index, _), node in zip(entries, found, strict=True):
            result[index] = node
    return result
