"""Invoice loaders, read through the visibility policy (`app/access/policy.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from app.finance import service
from app.finance.service import BillingState
from graphql_schema.loaders import ContextLoader


class DocumentByIdLoader(ContextLoader[uuid.UUID, Any]):
    """An invoice or credit note by id (the caller checks the kind)."""

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[Any]:
        async with self.context.db() as session:
            found = await service.get_many(session=session, ids=keys, viewer=self.context.viewer)
        return [found.get(key) for key in keys]


class DocumentsByOrderIdLoader(ContextLoader[uuid.UUID, list[Any]]):
    """An order's invoices and credit notes, in the order they were issued."""

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[Any]]:
        async with self.context.db() as session:
            found = await service.of_orders_many(session=session, order_ids=keys, viewer=self.context.viewer)
        return [found.get(key, []) for key in keys]


class CreditNotesByInvoiceIdLoader(ContextLoader[uuid.UUID, list[Any]]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[Any]]:
        async with self.context.db() as session:
            found = await service.credit_notes_of_many(session=session, invoice_ids=keys, viewer=self.context.viewer)
        return [found.get(key, []) for key in keys]


class DocumentLinesLoader(ContextLoader[uuid.UUID, list[Any]]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[Any]]:
        async with self.context.db() as session:
            found = await service.lines_of_documents_many(session=session, invoice_ids=keys, viewer=self.context.viewer)
        return [found.get(key, []) for key in keys]


class BillingStateLoader(ContextLoader[uuid.UUID, BillingState]):
    """Asked only for orders the viewer sees (a field of Order)."""

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[BillingState]:
        async with self.context.db() as session:
            found = await service.billing_state_of_many(session=session, order_ids=keys)
        return [found[key] for key in keys]
