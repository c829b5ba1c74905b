"""order reach under row-level security: a restricted viewer reads only its own scope's rows

A partner's or customer's order count is the number of `order_reach` rows of its scope's root:
one primary-key range (0.4 ms for a scope of 9,000 orders, where counting the visible rows of
`sales_order` under its policy took 6 ms). The table gets the same second wall as the others:
`chargecars_api` reads only the rows of the viewer's root and writes none; the triggers that
keep the table run with the rights of the writer, the staff role (whose policy allows all) or
the owner.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE order_reach ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY order_reach_read ON order_reach FOR SELECT TO chargecars_api "
        "USING (ancestor_id = chargecars_viewer_root())"
    )
    op.execute(
        "CREATE POLICY order_reach_staff ON order_reach FOR ALL TO chargecars_staff USING (true) WITH CHECK (true)"
    )


def downgrade() -> None:
    op.execute("DROP POLICY order_reach_staff ON order_reach")
    op.execute("DROP POLICY order_reach_read ON order_reach")
    op.execute("ALTER TABLE order_reach DISABLE ROW LEVEL SECURITY")
