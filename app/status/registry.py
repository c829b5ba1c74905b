"""How the engine finds and updates each entity type's own row.

A domain registers its entity type when the entry point wires the application (`app/wiring.py`,
e.g. `app.orders.service.wire`); the engine itself never changes when a new type arrives.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from app.errors import ValidationFailed
from app.status.models import EntityType


@dataclass(frozen=True, slots=True)
class EntityAdapter:
    entity_type: EntityType
    model: type[Any]
    name: str
    """What the entity is called in messages (`Order`, `PartnerCommission`)."""
    status_attribute: str = "status"
    business_entity_attribute: str | None = "business_entity_id"

    def business_entity_id(self, row: Any) -> uuid.UUID | None:
        return getattr(row, self.business_entity_attribute) if self.business_entity_attribute else None


_ADAPTERS: dict[str, EntityAdapter] = {}


def register(adapter: EntityAdapter) -> None:
    _ADAPTERS[adapter.entity_type.value] = adapter


def adapter_for(entity_type: str) -> EntityAdapter:
    adapter = _ADAPTERS.get(entity_type)
    if adapter is None:
        raise ValidationFailed(f"{entity_type!r} has no status yet.", field="entity_type")
    return adapter


def registered() -> list[EntityAdapter]:
    return list(_ADAPTERS.values())
