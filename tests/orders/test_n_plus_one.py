"""orders(first: N) with every nested relation: the statement count does not grow with N."""

from __future__ import annotations

import pytest

from tests.conftest import gql

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
    }
  }
}
"""


@pytest.mark.parametrize("viewer", ["admin", "partner"])
async def test_statement_count_is_the_same_for_10_and_100(
    client, create_order, demo, chain, count_statements, viewer
) -> None:
    contacts, tokens = demo
    for i in range(110):
        result = await create_order(tokens["admin"], account=chain[i % 3], end_customer=contacts["Eva de Vries"],
                                    channel=chain[i % 3:])
        assert result["__typename"] == "OrderSuccess"
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
