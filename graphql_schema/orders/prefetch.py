"""Order trees fed in bulk: a root list of orders looks at its selection once and loads what
the page needs, one batched statement per relation, before any order field resolves.

The loads go through the same dataloaders the fields use, so the fields then find their values
already loaded and resolve synchronously (`graphql_schema.loaders.now_or_later`): no task and
no await per order, per contact, per line. What a selection does not ask for is not loaded.
Two rounds: what the order rows name directly (brand, chain, lines, status, history,
commissions, holds, the account's and end customer's ancestors), then what those name (every
contact of the page in one batch, the commissions' statuses, the history's authors).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from app.orders.models import Order
from app.status.models import EntityType
from graphql_schema.accounts.loaders import AccountNameLoader
from graphql_schema.business_entities.loaders import BusinessEntityByIdLoader
from graphql_schema.commissions.loaders import CommissionsByOrderIdLoader
from graphql_schema.contacts.loaders import AncestorsByContactIdLoader, ContactByIdLoader
from graphql_schema.orders.loaders import ChannelByOrderIdLoader, HoldsByOrderIdLoader, LinesByOrderIdLoader
from graphql_schema.status.loaders import CurrentStatusLoader, TransitionsByEntityLoader

Fields = dict[str, list[SelectedField]]


def fields_of(selections: Iterable[Selection]) -> Fields:
    """The fields selected, fragments and inline fragments merged in, by name."""
    found: Fields = {}
    for selection in selections:
        if isinstance(selection, SelectedField):
            found.setdefault(selection.name, []).append(selection)
        elif isinstance(selection, FragmentSpread | InlineFragment):
            for name, fields in fields_of(selection.selections).items():
                found.setdefault(name, []).extend(fields)
    return found


def below(fields: Fields, *path: str) -> Fields:
    """The fields selected under `path` (e.g. `nodes` of a connection), merged."""
    current = fields
    for name in path:
        current = fields_of(s for field in current.get(name, []) for s in field.selections)
    return current


def node_fields(info: Info) -> Fields:
    """The fields selected on the nodes of the connection this resolver returns."""
    root = fields_of(info.selected_fields)
    connection = fields_of(s for field in next(iter(root.values()), []) for s in field.selections)
    nodes = below(connection, "nodes")
    for name, fields in below(connection, "edges", "node").items():
        nodes.setdefault(name, []).extend(fields)
    return nodes


async def prefetch_orders(info: Info, orders: list[Order], selected: Fields) -> None:
    if not orders or not selected:
        return
    loaders = info.context.loaders
    ids = [order.id for order in orders]
    order_keys = [(EntityType.ORDER.value, order_id) for order_id in ids]
    contact_fields = {"accountContact": [o.account_contact_id for o in orders],
                      "endCustomer": [o.end_customer_contact_id for o in orders if o.end_customer_contact_id]}

    first: list[Awaitable[Any]] = []
    if "businessEntity" in selected:
        first.append(loaders.get(BusinessEntityByIdLoader).load_many({o.business_entity_id for o in orders}))
    if "channelChain" in selected:
        first.append(loaders.get(ChannelByOrderIdLoader).load_many(ids))
    if "lines" in selected or "totals" in selected:
        first.append(loaders.get(LinesByOrderIdLoader).load_many(ids))
    if "status" in selected or "allowedTransitions" in selected:
        first.append(loaders.get(CurrentStatusLoader).load_many(order_keys))
    if "statusHistory" in selected:
        first.append(loaders.get(TransitionsByEntityLoader).load_many(order_keys))
    if "commissions" in selected:
        first.append(loaders.get(CommissionsByOrderIdLoader).load_many(ids))
    if "holds" in selected:
        first.append(loaders.get(HoldsByOrderIdLoader).load_many(ids))
    with_ancestors = {contact_id for name, contact_ids in contact_fields.items()
                      if name in selected and {"ancestors", "depth"} & set(below(selected, name))
                      for contact_id in contact_ids}
    if with_ancestors:
        first.append(loaders.get(AncestorsByContactIdLoader).load_many(with_ancestors))
    if first:
        await asyncio.gather(*first)  # the loaders keep what they loaded

    contacts = {c for name, cs in contact_fields.items() if name in selected for c in cs}
    second: list[Awaitable[Any]] = []
    if "channelChain" in selected and "contact" in below(selected, "channelChain"):
        chains = await loaders.get(ChannelByOrderIdLoader).load_many(ids)
        contacts |= {entry.contact_id for chain in chains for entry in chain}
    if "commissions" in selected:
        commissions = [c for rows in await loaders.get(CommissionsByOrderIdLoader).load_many(ids) for c in rows]
        under = below(selected, "commissions")
        if "beneficiary" in under:
            contacts |= {c.beneficiary_contact_id for c in commissions}
        if "status" in under:
            keys = [(EntityType.PARTNER_COMMISSION.value, c.id) for c in commissions]
            second.append(loaders.get(CurrentStatusLoader).load_many(keys))
    if "triggeredBy" in below(selected, "statusHistory", "nodes"):
        history = await loaders.get(TransitionsByEntityLoader).load_many(order_keys)
        authors = {t.triggered_by_account_id for rows in history for t in rows if t.triggered_by_account_id}
        second.append(loaders.get(AccountNameLoader).load_many(authors))
    if contacts:
        second.append(loaders.get(ContactByIdLoader).load_many(contacts))
    if second:
        await asyncio.gather(*second)
