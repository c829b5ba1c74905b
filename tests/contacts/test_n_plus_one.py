"""Every relation is batched: the statement count of a page does not grow with its size."""

from __future__ import annotations

import pytest

from app.accounts.models import Role
from tests.factories import issue_token, make_tree
from tests.support.api import gql

PAGE_WITH_RELATIONS = """
query ($first: Int!) {
  contacts(first: $first) {
    totalCount
    nodes {
      displayName depth
      parent { displayName }
      ancestors { level contact { displayName } }
      children(first: 5) { totalCount nodes { displayName } }
      descendants(first: 5) { totalCount nodes { level contact { displayName } } }
      members(first: 5) { totalCount nodes { displayName } }
      businessEntity { code }
    }
  }
}
"""


@pytest.mark.parametrize("viewer", ["admin", "partner"])
async def test_statement_count_is_the_same_for_10_and_100(client, sessions, settings, count_statements, viewer) -> None:
    contacts = await make_tree(sessions, roots=4, fanout=3, depth=4)
    assert len(contacts) > 300
    if viewer == "admin":
        token = await issue_token(sessions, Role.ADMIN)
    else:
        token = await issue_token(sessions, Role.PARTNER, contact_id=contacts[0].id)

    # The first use of a token records last_used_at (at most once a minute): not part of a page.
    await gql(client, "{ viewer { roles } }", token=token)
    counts = {}
    for first in (10, 100):
        with count_statements() as counter:
            data = await gql(client, PAGE_WITH_RELATIONS, {"first": first}, token=token)
        assert len(data["contacts"]["nodes"]) == min(first, data["contacts"]["totalCount"])
        counts[first] = len(counter.queries)
        assert 1 <= counter.transactions <= settings.read_connections  # the viewer set up per connection
    print(f"\nSQL statements for contacts(first: N) with every relation, as {viewer}: {counts}")
    assert counts[10] == counts[100]
    # token, count, page, then one batch each for parents, ancestors, children (also serving
    # members) and descendants; a partner's visibility is part of those statements, not extra
    # ones; a partner's call also counts against its rate limit (one statement, in the token
    # lookup's transaction) and is logged once answered (one insert)
    assert counts[100] == (7 if viewer == "admin" else 9)
