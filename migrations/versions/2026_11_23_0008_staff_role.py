"""staff role: staff transactions run as `chargecars_staff`, a second role that owns nothing,
whose policies let every row through; the API role keeps only the viewer's rules

Until now staff ran as `chargecars_api` with `chargecars.unrestricted = on`, so every scoped
table's rule began with a test of that setting, evaluated for each row read and keeping the
planner from index-only scans (a count of all orders took 6 ms instead of 1.3 ms). Now the
setting is gone: staff (and every write, which the services authorise) run as
`chargecars_staff`, whose policy on each scoped table is `true`, and the rules of
`chargecars_api` are the viewer's alone. The API role no longer writes at all: it has no write
policy, so row-level security refuses every insert, update and delete it tries.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF = "chargecars_staff"
API = "chargecars_api"
SCOPED = (
    "contact",
    "sales_order",
    "order_channel",
    "line_item",
    "order_hold",
    "partner_commission",
    "status_transition",
    "entity_current_status",
)
SCOPE = "SELECT descendant_id FROM contact_closure WHERE ancestor_id = chargecars_viewer_root()"

# the functions and rules of 0006/0007 without the unrestricted test
FUNCTIONS = [
    """CREATE OR REPLACE FUNCTION chargecars_sees_order(p_order uuid) RETURNS boolean LANGUAGE sql STABLE
        SECURITY DEFINER COST 10000 SET search_path = public SET plan_cache_mode = auto AS $$
        SELECT EXISTS (
            SELECT 1 FROM order_party op JOIN contact_closure cc ON cc.descendant_id = op.contact_id
            WHERE op.order_id = p_order AND cc.ancestor_id = chargecars_viewer_root()) $$""",
    """CREATE OR REPLACE FUNCTION chargecars_sees_commission(p_commission uuid) RETURNS boolean LANGUAGE sql
        STABLE SECURITY DEFINER COST 10000 SET search_path = public SET plan_cache_mode = auto AS $$
        SELECT EXISTS (
            SELECT 1 FROM partner_commission c JOIN contact_closure cc ON cc.descendant_id = c.beneficiary_contact_id
            WHERE c.id = p_commission AND cc.ancestor_id = chargecars_viewer_root()) $$""",
    """CREATE OR REPLACE FUNCTION chargecars_sees_entity(p_type text, p_entity uuid) RETURNS boolean LANGUAGE sql
        STABLE SECURITY DEFINER COST 10000 SET search_path = public SET plan_cache_mode = auto AS $$
        SELECT CASE p_type
            WHEN 'order' THEN chargecars_sees_order(p_entity)
            WHEN 'partner_commission' THEN chargecars_sees_commission(p_entity)
            ELSE false END $$""",
]
READ = {
    "contact": f"id IN ({SCOPE}) OR chargecars_sees_contact_outside(id)",
    "sales_order": f"id IN (SELECT order_id FROM order_party WHERE contact_id IN ({SCOPE}))",
    "partner_commission": f"beneficiary_contact_id IN ({SCOPE})",
}


def upgrade() -> None:
    op.execute(f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{STAFF}') THEN
                CREATE ROLE {STAFF} NOLOGIN;
            END IF;
        END $$""")
    op.execute(f"GRANT {STAFF} TO CURRENT_USER")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {STAFF}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {STAFF}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {STAFF}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {STAFF}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {STAFF}")
    for table in SCOPED:
        op.execute(f"CREATE POLICY {table}_staff ON {table} FOR ALL TO {STAFF} USING (true) WITH CHECK (true)")
        op.execute(f"DROP POLICY {table}_write ON {table}")
    for function in FUNCTIONS:
        op.execute(function)
    for table, rule in READ.items():
        op.execute(f"ALTER POLICY {table}_read ON {table} USING ({rule})")
    op.execute("DROP FUNCTION chargecars_unrestricted()")


def downgrade() -> None:
    op.execute("""CREATE FUNCTION chargecars_unrestricted() RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT coalesce(current_setting('chargecars.unrestricted', true), '') = 'on' $$""")
    for table, rule in READ.items():
        op.execute(f"ALTER POLICY {table}_read ON {table} USING (chargecars_unrestricted() OR {rule})")
    for function in FUNCTIONS:
        op.execute(
            function.replace("SELECT EXISTS (", "SELECT chargecars_unrestricted() OR EXISTS (", 1).replace(
                "ELSE false END", "ELSE chargecars_unrestricted() END"
            )
        )
    for table in SCOPED:
        op.execute(
            f"CREATE POLICY {table}_write ON {table} FOR ALL TO {API} "
            "USING (chargecars_unrestricted()) WITH CHECK (chargecars_unrestricted())"
        )
        op.execute(f"DROP POLICY {table}_staff ON {table}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {STAFF}")
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {STAFF}"
    )
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {STAFF}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {STAFF}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {STAFF}")
    op.execute(f"""
        DO $$ BEGIN
            DROP ROLE {STAFF};
        EXCEPTION WHEN dependent_objects_still_exist OR object_in_use THEN
            NULL;  -- another database of this server still uses it
        END $$""")
