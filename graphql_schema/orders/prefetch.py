"""Order trees fed in bulk: a root list of orders looks at its selection once and loads what
the page needs, one batched statement per relation, before any order field resolves.

The loads go through the same dataloaders the fields use, so the fields then find their values
already loaded and resolve synchronously (`graphql_schema.loaders.now_or_later`): no task and
no await per order, per contact, per line. What a selection does not ask for is not loaded.
Two rounds: what the order rows name directly (brand, chain, lines, status, history,
commissions, holds, invoices, billing state, the account's and end customer's ancestors, quotes,
visits, work orders, documents), then what those name (every contact of the page in one batch
— the visits' installers among them —, the statuses of commissions, invoices, quotes, visits
and work orders in one batch, the invoices' credit notes and lines, the history's authors, the
quotes' lines, the visits' surveys and documents, the work orders' checklists, records, seals,
visits, extra lines and documents).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any, cast

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode, SelectionNode
from strawberry.types import Info

from app.orders.models import Order
from app.status.models import EntityType
from graphql_schema.accounts.loaders import AccountNameLoader
from graphql_schema.business_entities.loaders import BusinessEntityByIdLoader
from graphql_schema.commissions.loaders import CommissionsByOrderIdLoader
from graphql_schema.contacts.loaders import AncestorsByContactIdLoader, ContactByIdLoader
from graphql_schema.finance.loaders import (
    AllocationsByDocumentLoader,
    BillingStateLoader,
    CreditNotesByInvoiceIdLoader,
    DocumentLinesLoader,
    DocumentsByOrderIdLoader,
    OwedLoader,
)
from graphql_schema.operations.loaders import (
    DOCUMENTS_OF,
    ExtraLinesLoader,
    InstallationLoader,
    QuoteLinesLoader,
    QuotesByOrderLoader,
    SealsLoader,
    SurveyLoader,
    TasksLoader,
    VisitInstallersLoader,
    VisitsByOrderLoader,
    VisitsByWorkOrderLoader,
    WorkOrdersByOrderLoader,
)
from graphql_schema.orders.loaders import ChannelByOrderIdLoader, HoldsByOrderIdLoader, LinesByOrderIdLoader
from graphql_schema.status.loaders import CurrentStatusLoader, TransitionsByEntityLoader

Fields = dict[str, list[FieldNode]]
"""The fields selected on a type, by name: the syntax nodes, fragments and inline fragments
merged in. `@skip`/`@include` are not evaluated: a skipped field is loaded for nothing, never
missed."""


def fields_of(selections: Iterable[SelectionNode], fragments: dict[str, FragmentDefinitionNode]) -> Fields:
    found: Fields = {}
    for selection in selections:
        if isinstance(selection, FieldNode):
            found.setdefault(selection.name.value, []).append(selection)
            continue
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            inner = fragment.selection_set.selections if fragment is not None else ()
        else:  # an inline fragment
            inner = cast(InlineFragmentNode, selection).selection_set.selections
        for name, fields in fields_of(inner, fragments).items():
            found.setdefault(name, []).extend(fields)
    return found


class Selected:
    """What a resolver's field selects, walked on the syntax tree (Strawberry's
    `info.selected_fields` converts the whole tree with its directives first: a millisecond on
    an order page)."""

    def __init__(self, info: Info) -> None:
        raw = info._raw_info
        self.fragments = raw.fragments
        self.root = fields_of(raw.field_nodes, self.fragments)

    def below(self, fields: Fields, *path: str) -> Fields:
        """The fields selected under `path` (e.g. `nodes` of a connection), merged."""
        current = fields
        for name in path:
            current = fields_of(
                (s for field in current.get(name, []) if field.selection_set for s in field.selection_set.selections),
                self.fragments,
            )
        return current

    def nodes(self) -> Fields:
        """The fields selected on the nodes of the connection this resolver returns."""
        connection = self.below(self.root, next(iter(self.root), ""))
        nodes = self.below(connection, "nodes")
        for name, fields in self.below(connection, "edges", "node").items():
            nodes.setdefault(name, []).extend(fields)
        return nodes


async def prefetch_orders(info: Info, orders: list[Order], selection: Selected) -> None:
    selected = selection.nodes()
    if not orders or not selected:
        return
    loaders = info.context.loaders
    ids = [order.id for order in orders]
    order_keys = [(EntityType.ORDER.value, order_id) for order_id in ids]
    contact_fields = {
        "accountContact": [o.account_contact_id for o in orders],
        "endCustomer": [o.end_customer_contact_id for o in orders if o.end_customer_contact_id],
    }

    first: list[Awaitable[Any]] = []
    if "businessEntity" in selected:
        first.append(loaders.get(BusinessEntityByIdLoader).load_all({o.business_entity_id for o in orders}))
    if "channelChain" in selected:
        first.append(loaders.get(ChannelByOrderIdLoader).load_all(ids))
    if "lines" in selected or "totals" in selected:
        first.append(loaders.get(LinesByOrderIdLoader).load_all(ids))
    if "status" in selected or "allowedTransitions" in selected:
        first.append(loaders.get(CurrentStatusLoader).load_all(order_keys))
    if "statusHistory" in selected:
        first.append(loaders.get(TransitionsByEntityLoader).load_all(order_keys))
    if "commissions" in selected:
        first.append(loaders.get(CommissionsByOrderIdLoader).load_all(ids))
    if "holds" in selected:
        first.append(loaders.get(HoldsByOrderIdLoader).load_all(ids))
    if "invoices" in selected:
        first.append(loaders.get(DocumentsByOrderIdLoader).load_all(ids))
    if "billingState" in selected:
        first.append(loaders.get(BillingStateLoader).load_all(ids))
    with_ancestors = {
        contact_id
        for name, contact_ids in contact_fields.items()
        if name in selected and {"ancestors", "depth"} & set(selection.below(selected, name))
        for contact_id in contact_ids
    }
    if with_ancestors:
        first.append(loaders.get(AncestorsByContactIdLoader).load_all(with_ancestors))
    for name, loader in _FIELD_OPERATIONS.items():
        if name in selected:
            first.append(loaders.get(loader).load_all(ids))
    if first:
        await asyncio.gather(*first)  # the loaders keep what they loaded

    contacts = {c for name, cs in contact_fields.items() if name in selected for c in cs}
    second: list[Awaitable[Any]] = []
    status_keys: list[tuple[str, Any]] = []  # of commissions and invoices: one batch
    if "channelChain" in selected and "contact" in selection.below(selected, "channelChain"):
        chains = await loaders.get(ChannelByOrderIdLoader).load_all(ids)
        contacts |= {entry.contact_id for chain in chains for entry in chain}
    if "commissions" in selected:
        commissions = [c for rows in await loaders.get(CommissionsByOrderIdLoader).load_all(ids) for c in rows]
        under = selection.below(selected, "commissions")
        if "beneficiary" in under:
            contacts |= {c.beneficiary_contact_id for c in commissions}
        if "status" in under:
            status_keys += [(EntityType.PARTNER_COMMISSION.value, c.id) for c in commissions]
    if "invoices" in selected:
        under = selection.below(selected, "invoices")
        invoices = [d.id for rows in await loaders.get(DocumentsByOrderIdLoader).load_all(ids) for d in rows]
        if "status" in under:
            status_keys += [(EntityType.INVOICE.value, i) for i in invoices]
        if "creditNotes" in under:
            second.append(loaders.get(CreditNotesByInvoiceIdLoader).load_all(invoices))
        if {"openAmount", "paidAmount"} & set(under):
            second.append(loaders.get(OwedLoader).load_all(invoices))
        if "allocations" in under:
            second.append(loaders.get(AllocationsByDocumentLoader).load_all(invoices))
        if {"lines", "vat"} & set(under):
            second.append(loaders.get(DocumentLinesLoader).load_all(invoices))
    if "triggeredBy" in selection.below(selected, "statusHistory", "nodes"):
        history = await loaders.get(TransitionsByEntityLoader).load_all(order_keys)
        authors = {t.triggered_by_account_id for rows in history for t in rows if t.triggered_by_account_id}
        second.append(loaders.get(AccountNameLoader).load_all(authors))
    booked = await _prefetch_field_operations(info, ids, selection, selected, second, status_keys)
    # the two largest batches first, so that they hold connections from the start and the small
    # ones fill in beside them (the page's contacts and the statuses it names take the longest,
    # and longer still under a restricted viewer's rules); the contacts wait only for the visits'
    # bookings, which name the installers, not for the rest of the round
    if status_keys:
        second.insert(0, loaders.get(CurrentStatusLoader).load_all(status_keys))
    if contacts or booked is not None:
        second.insert(0, _contacts(info, contacts, booked))
    if second:
        await asyncio.gather(*second)


async def _contacts(info: Info, contacts: set[Any], booked: Awaitable[list[list[Any]]] | None) -> None:
    """Every contact of the page in one batch: the orders' and their chains', the commissions'
    beneficiaries, and the installers of the visits' bookings once these are loaded. Each is a
    party to an order of the page, or an installer on one of its bookings (a beneficiary is in
    the viewer's scope, where its commission is visible), so the batch reads them as such
    (`ContactByIdLoader.parties`)."""
    if booked is not None:
        contacts = contacts | {row.installer_contact_id for rows in await booked for row in rows}
    if contacts:
        loader = info.context.loaders.get(ContactByIdLoader)
        await loader.load_all(contacts, loader.parties)


_FIELD_OPERATIONS: dict[str, Any] = {
    "quotes": QuotesByOrderLoader,
    "visits": VisitsByOrderLoader,
    "workOrders": WorkOrdersByOrderLoader,
    "documents": DOCUMENTS_OF["order_id"],
}
"""The order's field operations, each one batch for the page (first round)."""

_UNDER_VISITS: dict[str, Any] = {"survey": SurveyLoader, "documents": DOCUMENTS_OF["visit_id"]}
_UNDER_WORK_ORDERS: dict[str, Any] = {
    "tasks": TasksLoader,
    "installation": InstallationLoader,
    "seals": SealsLoader,
    "visits": VisitsByWorkOrderLoader,
    "extraLines": ExtraLinesLoader,
    "documents": DOCUMENTS_OF["work_order_id"],
}


async def _prefetch_field_operations(
    info: Info,
    ids: list[Any],
    selection: Selected,
    selected: Fields,
    second: list[Awaitable[Any]],
    status_keys: list[tuple[str, Any]],
) -> Awaitable[list[list[Any]]] | None:
    """The second round of quotes, visits and work orders: their statuses (into `status_keys`),
    what hangs off them, and the load of the visits' bookings, not awaited (returned: the
    installers they name join the page's one contact batch)."""
    loaders = info.context.loaders
    booked: Awaitable[list[list[Any]]] | None = None
    if "quotes" in selected:
        under = selection.below(selected, "quotes")
        quotes = [q.id for rows in await loaders.get(QuotesByOrderLoader).load_all(ids) for q in rows]
        if "status" in under:
            status_keys += [(EntityType.QUOTE.value, q) for q in quotes]
        if {"lines", "totals"} & set(under):
            second.append(loaders.get(QuoteLinesLoader).load_all(quotes))
    if "visits" in selected:
        under = selection.below(selected, "visits")
        visits = [v.id for rows in await loaders.get(VisitsByOrderLoader).load_all(ids) for v in rows]
        if "status" in under:
            status_keys += [(EntityType.VISIT.value, v) for v in visits]
        if "installers" in under:
            booked = loaders.get(VisitInstallersLoader).load_all(visits)
        second.extend(loaders.get(loader).load_all(visits) for name, loader in _UNDER_VISITS.items() if name in under)
    if "workOrders" in selected:
        under = selection.below(selected, "workOrders")
        work_orders = [w.id for rows in await loaders.get(WorkOrdersByOrderLoader).load_all(ids) for w in rows]
        if "status" in under:
            status_keys += [(EntityType.WORK_ORDER.value, w) for w in work_orders]
        second.extend(
            loaders.get(loader).load_all(work_orders) for name, loader in _UNDER_WORK_ORDERS.items() if name in under
        )
    return booked
