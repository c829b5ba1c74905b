"""orders(first: N) with every nested relation: the statement count does not grow with N."""

from __future__ import annotations

import pytest

from app.access.scope import UNRESTRICTED
from app.audit.service import SYSTEM
from app.orders import service as orders
from app.orders.service import OrderCreate
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
    }
  }
}
"""


@pytest.mark.parametrize("viewer", ["admin", "partner"])
async def test_statement_count_is_the_same_for_10_and_100(
    client, sessions, demo, chain, count_statements, viewer
) -> None:
    contacts, tokens = demo
    brand = await brand_id(sessions, "CC")
    async with sessions() as session, session.begin():  # the data; the API is measured below
        for i in range(110):
            await orders.create(
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
    token = tokens[viewer]
    await gql(client, "{ viewer { roles } }", token=token)  # token's first use writes last_used_at
    counts = {}
    for first in (10, 100):
        with count_statements() as counter:
            data = await gql(client, ORDER_TREE, {"first": first}, token=token)
        assert len(data["orders"]["nodes"]) == first
        counts[first] = counter.count
    print(f"\nSQL statements for orders(first: N) with every relation, as {viewer}: {counts}")
    assert counts[10] == counts[100]
