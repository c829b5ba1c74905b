"""row-level security: the visibility policy again, in PostgreSQL, as a second wall

API transactions run as `chargecars_api`, a role that owns nothing, with the viewer in
transaction-local settings (`chargecars.unrestricted`, `chargecars.viewer_root`,
`chargecars.viewer_contact`; set by `app/db.py`). Its policies repeat the rules of
`app/access/policy.py` on every scoped table, so a read the application forgets to filter
still returns only what the viewer may see. Without settings a transaction of that role sees
nothing. The ways through are explicit: staff (and every write: the services authorise writes)
run with `chargecars.unrestricted = on`; migrations, the demo loader, the CLI and the job
processes connect as the owner, which row-level security does not restrict.

Cross-table checks go through SECURITY DEFINER functions owned by the owner, so one table's
policy reading another's rows does not recurse into that table's policy; they are declared
costly, so the planner reaches rows by their keys first and calls them on few rows. `contact_closure`
holds only ids and has no policy; the functions read it.

Roles belong to the server, not to one database: the role is created unless it exists, and a
downgrade leaves it when another database still uses it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "chargecars_api"

FUNCTIONS = [
    # the viewer, from the transaction's settings (inlined by the planner)
    """CREATE FUNCTION chargecars_unrestricted() RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT coalesce(current_setting('chargecars.unrestricted', true), '') = 'on' $$""",
    """CREATE FUNCTION chargecars_viewer_root() RETURNS uuid LANGUAGE sql STABLE AS $$
        SELECT nullif(current_setting('chargecars.viewer_root', true), '')::uuid $$""",
    """CREATE FUNCTION chargecars_viewer_contact() RETURNS uuid LANGUAGE sql STABLE AS $$
        SELECT nullif(current_setting('chargecars.viewer_contact', true), '')::uuid $$""",
    # orders on which a contact of the scope is in the channel chain, once per statement
    """CREATE FUNCTION chargecars_chain_orders() RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = public AS $$
        SELECT oc.order_id FROM order_channel oc
        JOIN contact_closure cc ON cc.descendant_id = oc.contact_id
        WHERE cc.ancestor_id = chargecars_viewer_root() $$""",
    """CREATE FUNCTION chargecars_sees_order(p_order uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER COST 10000
        SET search_path = public AS $$
        SELECT chargecars_unrestricted() OR EXISTS (
            SELECT 1 FROM sales_order o
            JOIN contact_closure cc ON cc.descendant_id IN (o.account_contact_id, o.end_customer_contact_id)
            WHERE o.id = p_order AND cc.ancestor_id = chargecars_viewer_root()
        ) OR EXISTS (
            SELECT 1 FROM order_channel oc JOIN contact_closure cc ON cc.descendant_id = oc.contact_id
            WHERE oc.order_id = p_order AND cc.ancestor_id = chargecars_viewer_root()) $$""",
    """CREATE FUNCTION chargecars_sees_commission(p_commission uuid) RETURNS boolean LANGUAGE sql STABLE
        SECURITY DEFINER COST 10000 SET search_path = public AS $$
        SELECT chargecars_unrestricted() OR EXISTS (
            SELECT 1 FROM partner_commission c JOIN contact_closure cc ON cc.descendant_id = c.beneficiary_contact_id
            WHERE c.id = p_commission AND cc.ancestor_id = chargecars_viewer_root()) $$""",
    # a contact outside the scope: an ancestor of the viewer, or a party to a visible order
    """CREATE FUNCTION chargecars_sees_contact_outside(p_contact uuid) RETURNS boolean LANGUAGE sql STABLE
        SECURITY DEFINER COST 10000 SET search_path = public AS $$
        SELECT EXISTS (SELECT 1 FROM contact_closure
                       WHERE ancestor_id = p_contact AND descendant_id = chargecars_viewer_contact() AND depth > 0)
            OR EXISTS (SELECT 1 FROM sales_order o WHERE o.account_contact_id = p_contact AND chargecars_sees_order(o.id))
            OR EXISTS (SELECT 1 FROM sales_order o WHERE o.end_customer_contact_id = p_contact AND chargecars_sees_order(o.id))
            OR EXISTS (SELECT 1 FROM order_channel oc WHERE oc.contact_id = p_contact AND chargecars_sees_order(oc.order_id)) $$""",
    # status rows follow their entity (the registered entity types)
    """CREATE FUNCTION chargecars_sees_entity(p_type text, p_entity uuid) RETURNS boolean LANGUAGE sql STABLE
        SECURITY DEFINER COST 10000 SET search_path = public AS $$
        SELECT CASE p_type
            WHEN 'order' THEN chargecars_sees_order(p_entity)
            WHEN 'partner_commission' THEN chargecars_sees_commission(p_entity)
            ELSE chargecars_unrestricted() END $$""",
]

# the viewer's scope as a set, for `column IN (SCOPE)`: the planner hashes it once per statement
# (a function holding a subquery is never inlined, and calling one per row of a scan costs
# several times the scan)
SCOPE = "SELECT descendant_id FROM contact_closure WHERE ancestor_id = chargecars_viewer_root()"

# table → the read rule (for the API role); every table also has the write rule below. Tables
# read by whole scans test set membership; tables read by batches of ids call a function per row.
POLICIES = {
    "contact": f"chargecars_unrestricted() OR id IN ({SCOPE}) OR chargecars_sees_contact_outside(id)",
    "sales_order": (
        f"chargecars_unrestricted() OR account_contact_id IN ({SCOPE}) OR end_customer_contact_id IN ({SCOPE}) "
        "OR id IN (SELECT chargecars_chain_orders())"
    ),
    # a chain entry of a contact in scope belongs to a visible order: the set test answers the
    # application's own channel subqueries without a call per row
    "order_channel": f"chargecars_unrestricted() OR contact_id IN ({SCOPE}) OR chargecars_sees_order(order_id)",
    "line_item": "chargecars_sees_order(order_id)",
    "order_hold": "chargecars_sees_order(order_id)",
    "partner_commission": f"chargecars_unrestricted() OR beneficiary_contact_id IN ({SCOPE})",
    "status_transition": "chargecars_sees_entity(entity_type, entity_id)",
    "entity_current_status": "chargecars_sees_entity(entity_type, entity_id)",
}


def upgrade() -> None:
    op.execute(f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
                CREATE ROLE {ROLE} NOLOGIN;
            END IF;
        END $$""")
    op.execute(f"GRANT {ROLE} TO CURRENT_USER")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {ROLE}")
    for function in FUNCTIONS:
        op.execute(function)
    for table, rule in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_read ON {table} FOR SELECT TO {ROLE} USING ({rule})")
        op.execute(
            f"CREATE POLICY {table}_write ON {table} FOR ALL TO {ROLE} "
            "USING (chargecars_unrestricted()) WITH CHECK (chargecars_unrestricted())"
        )


def downgrade() -> None:
    for table in POLICIES:
        op.execute(f"DROP POLICY {table}_write ON {table}")
        op.execute(f"DROP POLICY {table}_read ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for name in (
        "chargecars_sees_entity(text, uuid)",
        "chargecars_sees_contact_outside(uuid)",
        "chargecars_sees_commission(uuid)",
        "chargecars_sees_order(uuid)",
        "chargecars_chain_orders()",
        "chargecars_viewer_contact()",
        "chargecars_viewer_root()",
        "chargecars_unrestricted()",
    ):
        op.execute(f"DROP FUNCTION {name}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {ROLE}")
    op.execute(f"""
        DO $$ BEGIN
            DROP ROLE {ROLE};
        EXCEPTION WHEN dependent_objects_still_exist OR object_in_use THEN
            NULL;  -- another database of this server still uses it
        END $$""")
