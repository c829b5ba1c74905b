"""order parties: every contact with a role on an order, once, kept on write; the visibility
rules (application and row-level security) test orders through it

An order is visible when any of its parties is in the viewer's scope. With `order_party`
(order, contact) and `contact_closure` that is one semi-join, `id IN (SELECT order_id FROM
order_party WHERE contact_id IN (subtree))`, which PostgreSQL hashes once per statement, in
place of three tests per order row (account, end customer, an EXISTS over the chain). Triggers
on `sales_order` and `order_channel` rewrite an order's parties whenever its roles change;
`order_party_rebuild()` recomputes them all for bulk loads that skip triggers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIES = """
    SELECT id, account_contact_id FROM sales_order WHERE {orders}
    UNION
    SELECT id, end_customer_contact_id FROM sales_order WHERE {orders} AND end_customer_contact_id IS NOT NULL
    UNION
    SELECT order_id, contact_id FROM order_channel WHERE {channels}
"""

FUNCTIONS = [
    f"""CREATE FUNCTION order_party_refresh(p_order uuid) RETURNS void LANGUAGE sql AS $$
        DELETE FROM order_party WHERE order_id = p_order;
        INSERT INTO order_party (order_id, contact_id)
        {PARTIES.format(orders="id = p_order", channels="order_id = p_order")};
    $$""",
    f"""CREATE FUNCTION order_party_rebuild() RETURNS void LANGUAGE sql AS $$
        DELETE FROM order_party;
        INSERT INTO order_party (order_id, contact_id) {PARTIES.format(orders="true", channels="true")};
    $$""",
    """CREATE FUNCTION order_party_maintain() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_TABLE_NAME = 'sales_order' THEN
            PERFORM order_party_refresh(NEW.id);
        ELSE
            IF TG_OP <> 'INSERT' THEN PERFORM order_party_refresh(OLD.order_id); END IF;
            IF TG_OP <> 'DELETE' THEN PERFORM order_party_refresh(NEW.order_id); END IF;
        END IF;
        RETURN NULL;
    END $$""",
]

# the rules of 0006, now through order_party (the viewer functions of 0006 stay)
SEES_ORDER = """CREATE OR REPLACE FUNCTION chargecars_sees_order(p_order uuid) RETURNS boolean LANGUAGE sql STABLE
    SECURITY DEFINER COST 10000 SET search_path = public AS $$
    SELECT chargecars_unrestricted() OR EXISTS (
        SELECT 1 FROM order_party op JOIN contact_closure cc ON cc.descendant_id = op.contact_id
        WHERE op.order_id = p_order AND cc.ancestor_id = chargecars_viewer_root()) $$"""
SEES_CONTACT_OUTSIDE = """CREATE OR REPLACE FUNCTION chargecars_sees_contact_outside(p_contact uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER COST 10000 SET search_path = public AS $$
    SELECT EXISTS (SELECT 1 FROM contact_closure
                   WHERE ancestor_id = p_contact AND descendant_id = chargecars_viewer_contact() AND depth > 0)
        OR EXISTS (SELECT 1 FROM order_party mine
                   JOIN order_party theirs ON theirs.order_id = mine.order_id
                   JOIN contact_closure cc ON cc.descendant_id = theirs.contact_id
                   WHERE mine.contact_id = p_contact AND cc.ancestor_id = chargecars_viewer_root()) $$"""
# API connections plan every statement for its parameters (`plan_cache_mode = force_custom_plan`,
# app/db.py): a generic plan of a statement under row-level security guessed badly and took
# 10-40× longer once a long-running server had cached it. The per-row functions keep cached
# plans for their own small keyed lookups, which generic plans serve well.
PER_ROW = (
    "chargecars_sees_order(uuid)",
    "chargecars_sees_commission(uuid)",
    "chargecars_sees_contact_outside(uuid)",
    "chargecars_sees_entity(text, uuid)",
)
SCOPE = "SELECT descendant_id FROM contact_closure WHERE ancestor_id = chargecars_viewer_root()"
ORDER_READ = f"chargecars_unrestricted() OR id IN (SELECT order_id FROM order_party WHERE contact_id IN ({SCOPE}))"


def upgrade() -> None:
    op.create_table(
        "order_party",
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("contact_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_order_party_contact_id_contact"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_order_party_order_id_sales_order"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("order_id", "contact_id", name=op.f("pk_order_party")),
    )
    op.create_index("ix_order_party_contact", "order_party", ["contact_id", "order_id"])
    for function in FUNCTIONS:
        op.execute(function)
    op.execute(
        "CREATE TRIGGER order_party_of_order AFTER INSERT OR UPDATE OF account_contact_id, end_customer_contact_id "
        "ON sales_order FOR EACH ROW EXECUTE FUNCTION order_party_maintain()"
    )
    op.execute(
        "CREATE TRIGGER order_party_of_chain AFTER INSERT OR UPDATE OR DELETE ON order_channel "
        "FOR EACH ROW EXECUTE FUNCTION order_party_maintain()"
    )
    op.execute("SELECT order_party_rebuild()")
    op.execute(SEES_ORDER)
    op.execute(SEES_CONTACT_OUTSIDE)
    op.execute(f"ALTER POLICY sales_order_read ON sales_order USING ({ORDER_READ})")
    op.execute("ALTER POLICY order_channel_read ON order_channel USING (chargecars_sees_order(order_id))")
    op.execute("DROP FUNCTION chargecars_chain_orders()")
    for function in PER_ROW:
        op.execute(f"ALTER FUNCTION {function} SET plan_cache_mode = auto")


def downgrade() -> None:
    for function in PER_ROW:
        op.execute(f"ALTER FUNCTION {function} RESET plan_cache_mode")
    from importlib.util import module_from_spec, spec_from_file_location
    from pathlib import Path

    spec = spec_from_file_location("rls_0006", Path(__file__).with_name("2026_11_23_0006_row_level_security.py"))
    assert spec is not None and spec.loader is not None
    previous = module_from_spec(spec)
    spec.loader.exec_module(previous)
    op.execute(previous.FUNCTIONS[3])  # chargecars_chain_orders
    op.execute(f"ALTER POLICY sales_order_read ON sales_order USING ({previous.POLICIES['sales_order']})")
    op.execute(f"ALTER POLICY order_channel_read ON order_channel USING ({previous.POLICIES['order_channel']})")
    for index in (4, 6):  # chargecars_sees_order, chargecars_sees_contact_outside as 0006 made them
        op.execute(previous.FUNCTIONS[index].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.execute("DROP TRIGGER order_party_of_chain ON order_channel")
    op.execute("DROP TRIGGER order_party_of_order ON sales_order")
    for name in ("order_party_maintain()", "order_party_rebuild()", "order_party_refresh(uuid)"):
        op.execute(f"DROP FUNCTION {name}")
    op.drop_index("ix_order_party_contact", table_name="order_party")
    op.drop_table("order_party")
