"""Invoice loaders, read through the visibility policy (`app/access/policy.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from app.finance import payments, service, statements
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


class OwedLoader(ContextLoader[uuid.UUID, service.Owed]):
    """What an invoice still asks and what was paid on it (under the viewer's visibility)."""

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[service.Owed]:
        async with self.context.db() as session:
            found = await service.owed_of_many(session=session, invoice_ids=keys)
        zero = service.Owed(open=Decimal(0), paid=Decimal(0))
        return [found.get(key, zero) for key in keys]


class PaymentByIdLoader(ContextLoader[uuid.UUID, Any]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[Any]:
        async with self.context.db() as session:
            found = await payments.get_many(session=session, ids=keys, viewer=self.context.viewer)
        return [found.get(key) for key in keys]


class AllocationsByDocumentLoader(ContextLoader[uuid.UUID, list[Any]]):
    """What payments allocated to an invoice, or refunds to a credit note."""

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[Any]]:
        async with self.context.db() as session:
            found = await payments.allocations_of_documents_many(
                session=session, invoice_ids=keys, viewer=self.context.viewer
            )
        return [found.get(key, []) for key in keys]


class AllocationsByPaymentLoader(ContextLoader[uuid.UUID, list[Any]]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[Any]]:
        async with self.context.db() as session:
            found = await payments.allocations_of_payments_many(
                session=session, payment_ids=keys, viewer=self.context.viewer
            )
        return [found.get(key, []) for key in keys]


class SuggestionsLoader(ContextLoader[uuid.UUID, list[Any]]):
    """Keyed by payment id; asked for payments the viewer sees (staff)."""

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[Any]]:
        async with self.context.db() as session:
            found = await payments.get_many(session=session, ids=keys, viewer=self.context.viewer)
            waiting = [found[key] for key in keys if key in found]
            suggested = await statements.suggestions_of_many(session=session, payments=waiting)
        return [suggested.get(key, []) for key in keys]
