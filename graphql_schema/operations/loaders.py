"""Field operations' loaders: every one reads through the visibility policy, one statement per
batch (`app/access/reads.py`); a loader is made for each (model, key) pair by `by_id` and
`by_key`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from app.access import reads
from app.operations import reads as operation_reads
from app.operations.models import (
    Document,
    InstallationRecord,
    InstallerTeam,
    Quote,
    QuoteChannel,
    QuoteLine,
    SealUsage,
    SiteSurvey,
    Visit,
    VisitInstaller,
    WorkOrder,
    WorkOrderTask,
)
from app.orders.models import LineItem
from graphql_schema.loaders import ContextLoader


def by_id(model: Any) -> type[ContextLoader[uuid.UUID, Any]]:
    """Rows of `model` by id (None where the viewer may not see one)."""

    class Loader(ContextLoader[uuid.UUID, Any]):
        async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[Any]:
            async with self.context.db() as session:
                found = await reads.visible_by_id(session, model, keys, self.context.viewer)
            return [found.get(key) for key in keys]

    Loader.__name__ = Loader.__qualname__ = f"{model.__name__}ByIdLoader"
    return Loader


def by_key(key: Any, *order_by: Any, single: bool = False) -> type[ContextLoader[uuid.UUID, Any]]:
    """Rows whose column `key` is the loaded key, in `order_by` order (`single`: the one row, or None)."""
    model = key.class_

    class Loader(ContextLoader[uuid.UUID, Any]):
        async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[Any]:
            async with self.context.db() as session:
                found = await reads.visible_by(session, model, key, keys, self.context.viewer, *order_by)
            if single:
                return [found[k][0] if k in found else None for k in keys]
            return [found.get(k, []) for k in keys]

    Loader.__name__ = Loader.__qualname__ = f"{model.__name__}By{key.key.title().replace('_', '')}Loader"
    return Loader


class QuotesByOrderLoader(ContextLoader[uuid.UUID, list[Any]]):
    """The quote accepted into an order, with its earlier revisions."""

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[Any]]:
        async with self.context.db() as session:
            found = await operation_reads.quotes_of_orders(session=session, order_ids=keys, viewer=self.context.viewer)
        return [found.get(key, []) for key in keys]


QuoteByIdLoader = by_id(Quote)
QuoteRevisionsLoader = by_key(Quote.series_id, Quote.revision)
QuoteChannelLoader = by_key(QuoteChannel.quote_id, QuoteChannel.position)
QuoteLinesLoader = by_key(QuoteLine.quote_id, QuoteLine.position)
VisitByIdLoader = by_id(Visit)
VisitsByOrderLoader = by_key(Visit.order_id, Visit.starts_at, Visit.id)
VisitsByQuoteLoader = by_key(Visit.quote_id, Visit.starts_at, Visit.id)
VisitsByWorkOrderLoader = by_key(Visit.work_order_id, Visit.starts_at, Visit.id)
VisitInstallersLoader = by_key(VisitInstaller.visit_id, VisitInstaller.installer_contact_id)
SurveyLoader = by_key(SiteSurvey.visit_id, single=True)
TeamByIdLoader = by_id(InstallerTeam)
WorkOrderByIdLoader = by_id(WorkOrder)
WorkOrdersByOrderLoader = by_key(WorkOrder.order_id, WorkOrder.created_at, WorkOrder.id)
TasksLoader = by_key(WorkOrderTask.work_order_id, WorkOrderTask.position)
InstallationLoader = by_key(InstallationRecord.work_order_id, single=True)
SealsLoader = by_key(SealUsage.work_order_id, SealUsage.recorded_at, SealUsage.seal_number)
ExtraLinesLoader = by_key(LineItem.work_order_id, LineItem.created_at, LineItem.id)
DocumentByIdLoader = by_id(Document)
DOCUMENTS_OF = {
    column: by_key(getattr(Document, column), Document.created_at, Document.id)
    for column in ("order_id", "quote_id", "visit_id", "work_order_id", "contact_id")
}
"""The documents attached to each kind of parent, by the parent's id."""
