"""Allocating document numbers: `{prefix}-{year}-{seq:0{padding}d}`, e.g. `CC-2026-00001`.

One statement allocates: it bumps the counter of (brand, document type, year), or starts the
year's series from the newest earlier year's prefix and padding. The counter row stays locked
until the creating transaction ends, so numbers are unique, consecutive, and a rollback returns
its number (no gaps, as Dutch VAT rules require for invoices).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.numbering.errors import NumberingNotConfigured

BUSINESS_TIMEZONE: Final = ZoneInfo("Europe/Amsterdam")  # the year turns at midnight in the Netherlands


class DocumentType(enum.StrEnum):
    ORDER = "order"
    QUOTE = "quote"
    INVOICE = "invoice"
    WORK_ORDER = "work_order"
    SUPPORT_TICKET = "support_ticket"


_ALLOCATE = text(
    """
    INSERT INTO number_sequence (business_entity_id, document_type, year, prefix, padding, last_value)
    SELECT business_entity_id, document_type, :year, prefix, padding, 1
    FROM number_sequence
    WHERE business_entity_id = :brand AND document_type = :document
    ORDER BY year DESC
    LIMIT 1
    ON CONFLICT (business_entity_id, document_type, year)
    DO UPDATE SET last_value = number_sequence.last_value + 1, updated_at = now()
    RETURNING prefix, padding, year, last_value
    """
)


def format_number(prefix: str, year: int, value: int, padding: int) -> str:
    return f"{prefix}-{year}-{value:0{padding}d}"


def current_year() -> int:
    return datetime.now(BUSINESS_TIMEZONE).year


def today() -> date:
    """Today in the Netherlands (invoice dates, due dates, quote validity)."""
    return datetime.now(BUSINESS_TIMEZONE).date()


async def allocate(
    *, session: AsyncSession, business_entity_id: uuid.UUID, document_type: DocumentType, year: int | None = None
) -> str:
    row = (
        await session.execute(
            _ALLOCATE, {"brand": business_entity_id, "document": document_type.value, "year": year or current_year()}
        )
    ).one_or_none()
    if row is None:
        raise NumberingNotConfigured(
            f"This brand has no number series for {document_type.value} documents.", field="business_entity_id"
        )
    return format_number(row.prefix, row.year, row.last_value, row.padding)
