"""orders(first: N) with every nested relation (lines, totals and commissions included): the
statement count does not grow with N."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.access.scope import UNRESTRICTED
from app.audit.service import SYSTEM
from app.orders import service as orders
from app.orders import lines
from app.orders.lines import LineIn
from app.orders.service import OrderCreate
from app.status import engine
from tests.conftest import gql
from tests.factories import brand_id

ORDER_TREE = """
query ($first: Int!) {
  orders(first: $first) {
    totalCount
    nodes {
      number
      businessEntity { code }
      accountContact { displayName ancestors { level contact { displayName } } }
      endCustomer { displayName }
      channelChain { position contact { displayName } }
      status { name label color since slaDeadline isOverdue }
      statusHistory(first: 10) { totalCount nodes { fromStatus toStatus movement triggeredBy } }
      allowedTransitions { statusName }
      holds { reasonCategory isActive }
      lines { description quantity netAmount article { sku } }
      totals { net vat { rate amount } gross commissionableNet }
      commissions { level rate amount beneficiary { displayName } status { name } }
    }
  }
}
"""

COMPLETED_PATH = ("quoted", "accepted", "scheduled", "installing", "installed", "invoiced", "completed")


async def test_statement_count_is_the_same_for_10_and_100(client, sessions, demo, chain, count_statements) -> None:
    contacts, tokens = demo
    brand = await brand_id(sessions, "CC")
    for i in range(110):  # the data, made through the services; the API is measured below
        async with sessions() as session, session.begin():
            order = await orders.create(
                session=session,
                actor=SYSTEM,
                scope=UNRESTRICTED,
                order_in=OrderCreate(
                    business_entity_id=brand,
                    account_contact_id=chain[i % 3].id,
                    end_customer_contact_id=contacts["Eva de Vries"].id,
                    channel_contact_ids=[c.id for c in chain[i % 3 :]],
                ),
            )
            for price in ("899.00", "12.35"):
                await lines.add_line(session=session, order_id=order.id, actor=SYSTEM, line_in=LineIn(
                    description="Item", quantity=Decimal(2), unit_price=Decimal(price), vat_rate=Decimal(21)))
            for status in COMPLETED_PATH:
                await engine.change_status(
                    session=session, entity_type="order", entity_id=order.id, to_status=status, actor=SYSTEM)
    for viewer in ("admin", "partner"):
        await _same_count_for_10_and_100(client, count_statements, viewer, tokens[viewer])


async def _same_count_for_10_and_100(client, count_statements, viewer, token) -> None:  # type: ignore[no-untyped-def]
    await gql(client, "{ viewer { roles } }", token=token)  # token's first use writes last_used_at
    counts = {}
    for first in (10, 100):
        with count_statements() as counter:
            data = await gql(client, ORDER_TREE, {"first": first}, token=token)
        nodes = data["orders"]["nodes"]
        assert len(nodes) == first
        assert all(len(o["lines"]) == 2 and o["totals"]["net"] == "1822.70" for o in nodes)
        # the admin sees every level (3 to 5); the partner at the top only its own subtree's, all of them here
        assert all(len(o["commissions"]) == len(o["channelChain"]) >= 3 for o in nodes)
        counts[first] = counter.count
    print(f"\nSQL statements for orders(first: N) with every relation, as {viewer}: {counts}")
    assert counts[10] == counts[100]
