"""commission totals kept on write: each beneficiary's count and total of commissions per
status, as parts added by statement triggers on `partner_commission` in the transaction that
writes it, and summed back into one part each by a scheduled run

The commission overview of all periods (the partner portal's default) aggregated every
commission of the viewer's scope: 15,294 of 62,505 for the benchmark's top partner, a
sequential scan and a hashed membership test per commission under each of the two walls, 7 ms
of server time. The totals hold a part per beneficiary and status (5,821 at scale 1) plus what
was written since the last compaction; an overview of a period still reads the commissions.

Each statement adds one part per beneficiary and status it changed (an update netted: one that
changes neither amount nor status nor beneficiary adds nothing), and never updates a part:
totals kept in place, updated by every writer, locked them until the writer committed, and two
transactions writing commissions of the same beneficiaries in different orders deadlocked
(tests/commissions/test_totals.py). `commission_total_compact()` sums the parts in one
statement (deleting what its snapshot sees and inserting their sums: parts written meanwhile
stay for the next run). The functions run as their owner: the totals are the database's own
bookkeeping, written whoever writes the commissions. `commission_total_rebuild()` recounts them
from the commissions, for a bulk load that skipped the triggers.

The totals are visible by the commissions' rule: the beneficiary in the viewer's scope.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROOT = "chargecars_viewer_root()"


def _added(deltas: str) -> str:
    """Add `deltas` (beneficiary, status, commissions, amount) as parts, one per key."""
    return f"""
        INSERT INTO commission_total (beneficiary_contact_id, status, commissions, amount)
        SELECT beneficiary_contact_id, status, sum(commissions), sum(amount) FROM ({deltas}) AS delta
        GROUP BY beneficiary_contact_id, status
        HAVING sum(commissions) <> 0 OR sum(amount) <> 0"""


ADDED = "SELECT beneficiary_contact_id, status, 1 AS commissions, amount FROM added"
REMOVED = "SELECT beneficiary_contact_id, status, -1 AS commissions, -amount AS amount FROM removed"

KEEP = f"""CREATE FUNCTION commission_total_keep() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN {_added(ADDED)};
        ELSIF TG_OP = 'DELETE' THEN {_added(REMOVED)};
        ELSE {_added(f"{ADDED} UNION ALL {REMOVED}")};
        END IF;
        RETURN NULL;
    END $$"""

PARTS = "SELECT beneficiary_contact_id, status, commissions, amount FROM parts"
COMPACT = f"""CREATE FUNCTION commission_total_compact() RETURNS integer
    LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    WITH parts AS (DELETE FROM commission_total RETURNING beneficiary_contact_id, status, commissions, amount),
    summed AS ({_added(PARTS)} RETURNING 1)
    SELECT ((SELECT count(*) FROM parts) - (SELECT count(*) FROM summed))::integer $$"""

COMMISSIONS = "SELECT beneficiary_contact_id, status, 1 AS commissions, amount FROM partner_commission"
REBUILD = f"""CREATE FUNCTION commission_total_rebuild() RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    DELETE FROM commission_total; {_added(COMMISSIONS)} $$"""

TRIGGERS = {
    "insert": "NEW TABLE AS added",
    "update": "OLD TABLE AS removed NEW TABLE AS added",
    "delete": "OLD TABLE AS removed",
}


def upgrade() -> None:
    op.create_table(
        "commission_total",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("beneficiary_contact_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("commissions", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(16, 2), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_contact_id"],
            ["contact.id"],
            name=op.f("fk_commission_total_beneficiary_contact_id_contact"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_total")),
    )
    op.create_index("ix_commission_total_beneficiary", "commission_total", ["beneficiary_contact_id"])
    op.execute(KEEP)
    op.execute(COMPACT)
    op.execute(REBUILD)
    for event, tables in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER commission_total_on_{event} AFTER {event.upper()} ON partner_commission "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION commission_total_keep()"
        )
    op.execute("SELECT commission_total_rebuild()")
    op.execute("ALTER TABLE commission_total ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY commission_total_staff ON commission_total FOR ALL TO chargecars_staff "
        "USING (true) WITH CHECK (true)"
    )
    op.execute(
        "CREATE POLICY commission_total_read ON commission_total FOR SELECT TO chargecars_api USING "
        f"(beneficiary_contact_id IN (SELECT descendant_id FROM contact_closure WHERE ancestor_id = {ROOT}))"
    )


def downgrade() -> None:
    for event in TRIGGERS:
        op.execute(f"DROP TRIGGER commission_total_on_{event} ON partner_commission")
    op.execute("DROP FUNCTION commission_total_rebuild()")
    op.execute("DROP FUNCTION commission_total_compact()")
    op.execute("DROP FUNCTION commission_total_keep()")
    op.drop_index("ix_commission_total_beneficiary", table_name="commission_total")
    op.drop_table("commission_total")
