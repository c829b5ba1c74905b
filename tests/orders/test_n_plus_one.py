"""orders(first: N) with every nested relation (lines, totals and commissions included): the
statement count does not grow with N."""

from __future__ import annotations

from app.accounts.models import Role
from bench.generate import generate
from tests.factories import issue_token
from tests.support.api import gql

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
      billingState
      invoices { number grossAmount openAmount isOverdue status { name } lines { netAmount } vat { rate amount }
                 creditNotes { number } allocations { amount allocatedOn } }
      quotes { number revision status { name } lines { netAmount } totals { gross } }
      visits { visitType startsAt status { name } installers { displayName } survey { phases } documents { fileName } }
      workOrders { number status { name } tasks { done } installation { serialNumber } seals { sealNumber }
                   visits { startsAt } extraLines { description } documents { fileName } }
      documents { fileName sizeBytes }
    }
  }
}
"""


async def test_statement_count_is_the_same_for_10_and_100(
    client, database_url, sessions, settings, count_statements
) -> None:
    # the benchmark's generator: 200 orders with lines, histories and commissions, in seconds
    data = await generate(database_url, scale=0.004)
    tokens = {
        "admin": await issue_token(sessions, Role.ADMIN),
        "partner": await issue_token(sessions, Role.PARTNER, contact_id=data.staff[data.top_partner][0]),
    }
    for viewer, token in tokens.items():
        await _same_count_for_10_and_100(client, count_statements, viewer, token, settings.read_connections)


async def _same_count_for_10_and_100(client, count_statements, viewer, token, connections: int) -> None:
    await gql(client, "{ viewer { roles } }", token=token)  # token's first use writes last_used_at
    counts = {}
    for first in (10, 100):
        with count_statements() as counter:
            data = await gql(client, ORDER_TREE, {"first": first}, token=token)
        nodes = data["orders"]["nodes"]
        assert len(nodes) == first
        assert all(len(o["lines"]) >= 3 and o["statusHistory"]["totalCount"] >= 1 for o in nodes)
        assert sum(len(o["commissions"]) for o in nodes) >= first // 10  # commissions on the page
        assert sum(len(o["invoices"]) for o in nodes) >= first // 10  # and invoices, some paid
        assert sum(len(i["allocations"]) for o in nodes for i in o["invoices"]) >= first // 20
        # and field operations: quotes, visits with their installers, work orders with checklists and seals
        assert sum(len(o["quotes"]) for o in nodes) >= first // 10
        assert sum(len(v["installers"]) for o in nodes for v in o["visits"]) >= first // 10
        assert sum(len(w["tasks"]) + len(w["seals"]) for o in nodes for w in o["workOrders"]) >= first // 10
        counts[first] = len(counter.queries)
        # the first round's batches run side by side: the viewer set up on each connection
        assert counter.transactions == connections
    print(f"\nSQL statements for orders(first: N) with every relation, as {viewer}: {counts}")
    assert counts[10] == counts[100]
    # token, count, page; the page's prefetch (graphql_schema/orders/prefetch.py):
    # brands, chains, lines, order statuses, histories, commissions, holds, invoices, billing
    # states, ancestors, then the page's contacts, the commissions' and invoices' statuses (one
    # batch), the invoices' credit notes, lines, open amounts and payments (the generated history
    # has no authors to name); then what the prefetch does not cover: the workflows of allowed
    # transitions and the lines' articles; a partner's call also counts against its rate limit (one
    # statement, after the token lookup) and is logged once answered (one insert).
    # Field operations add 14: the orders' quotes, visits, work orders and documents, then the
    # quotes' lines, the visits' installers, surveys and documents, the work orders' checklists,
    # records, seals, visits, extra lines and documents (their statuses join the one status batch)
    assert counts[100] == (35 if viewer == "admin" else 37)
