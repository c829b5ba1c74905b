"""the contact read policy written out: the conditions of `chargecars_sees_contact_outside` as
correlated subqueries in the policy itself

The function was a call per contact outside the viewer's scope (SECURITY DEFINER with its own
settings: about 0.1 ms a call; the contacts of a partner's order page of 50 took 23 ms at scale
1). Written out, each condition is a probe per row planned with the statement (microseconds):
8.5 ms for that statement, of which 6.7 ms the application's own access levels. None of
the tables it reads has a policy that reads `contact`, so nothing recurses; where they have a
policy of their own (order_reach, quote, quote_channel, visit_installer) it admits at least the
rows the condition asks for, so the rule is the same. The function stays (migrations before
this one use it); nothing calls it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROOT = "chargecars_viewer_root()"
SCOPE = f"SELECT descendant_id FROM contact_closure WHERE ancestor_id = {ROOT}"

WRITTEN_OUT = (
    f"contact.id IN ({SCOPE}) "
    # an ancestor of the viewer (by name)
    "OR EXISTS (SELECT 1 FROM contact_closure up WHERE up.ancestor_id = contact.id "
    "AND up.descendant_id = chargecars_viewer_contact() AND up.depth > 0) "
    # a party to an order the scope reaches; OFFSET 0 keeps it a probe per row: without it the
    # planner may turn the EXISTS into a hashed set of every party of every order the scope
    # reaches (36,000 rows for the top partner of the benchmark, 18 ms) to test a page's contacts
    "OR EXISTS (SELECT 1 FROM order_party mine JOIN order_reach reach ON reach.order_id = mine.order_id "
    f"WHERE mine.contact_id = contact.id AND reach.ancestor_id = {ROOT} OFFSET 0) "
    # a party to a visible quote
    "OR EXISTS (SELECT 1 FROM quote q WHERE q.account_contact_id = contact.id AND chargecars_sees_quote(q.id)) "
    "OR EXISTS (SELECT 1 FROM quote q WHERE q.end_customer_contact_id = contact.id AND chargecars_sees_quote(q.id)) "
    "OR EXISTS (SELECT 1 FROM quote_channel ch WHERE ch.contact_id = contact.id "
    "AND chargecars_sees_quote(ch.quote_id)) "
    # an installer booked on a visible visit
    "OR EXISTS (SELECT 1 FROM visit_installer vi JOIN order_reach reach ON reach.order_id = vi.order_id "
    f"WHERE vi.installer_contact_id = contact.id AND reach.ancestor_id = {ROOT} OFFSET 0) "
    "OR EXISTS (SELECT 1 FROM visit_installer vi WHERE vi.installer_contact_id = contact.id "
    "AND vi.quote_id IS NOT NULL AND chargecars_sees_quote(vi.quote_id))"
)
BY_FUNCTION = f"contact.id IN ({SCOPE}) OR chargecars_sees_contact_outside(contact.id)"


def upgrade() -> None:
    op.execute(f"ALTER POLICY contact_read ON contact USING ({WRITTEN_OUT})")


def downgrade() -> None:
    op.execute(f"ALTER POLICY contact_read ON contact USING ({BY_FUNCTION})")
