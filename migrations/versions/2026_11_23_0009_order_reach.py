"""order reach: for every order, each contact that reaches it (every party and everything above
a party), kept on write; "the orders a scope sees" becomes one index range

The scope of a partner or customer is the subtree of its root, and an order is visible when a
party of it lies in that subtree: when the root is an ancestor-or-self of a party. `order_reach`
holds exactly those (ancestor, order) pairs, so a scope's orders are the rows of one primary-key
range and "does this scope see that order" is one primary-key probe, where `order_party` joined
to `contact_closure` read every party of every contact of the subtree (a top partner's count:
26 ms, its child-table rules a join per row).

Kept exact by triggers: an order's parties change (order_party_refresh, migration 0007) →
that order's reach is rewritten; the closure changes (a contact moved: its subtree's links are
deleted and re-inserted, migration 0005) → the reach of every order with a party in the moved
subtree is rewritten, in the same statement. Order writes take the hierarchy's advisory lock
shared and moves take it exclusively, so an order written while a subtree moves sees the move
committed or not at all. `order_reach_rebuild()` recomputes everything (bulk loads).

The read rules of `chargecars_api` (migrations 0006-0008) now read `order_reach`, written out
in the policies instead of called as SECURITY DEFINER functions (a call per row read).

Lock order: a transaction that writes both takes the hierarchy first (a contact written under a
parent, a move), then orders; the other way round two such transactions could deadlock.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HIERARCHY_LOCK_KEY = 7_340_001  # app.contacts.service.HIERARCHY_LOCK_KEY

REACH = """
    SELECT DISTINCT cc.ancestor_id, op.order_id
    FROM order_party op JOIN contact_closure cc ON cc.descendant_id = op.contact_id
    WHERE {orders}
"""

FUNCTIONS = [
    f"""CREATE FUNCTION order_reach_refresh(p_orders uuid[]) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        IF cardinality(p_orders) = 0 THEN RETURN; END IF;
        DELETE FROM order_reach WHERE order_id = ANY (p_orders);
        INSERT INTO order_reach (ancestor_id, order_id) {REACH.format(orders="op.order_id = ANY (p_orders)")};
    END $$""",
    f"""CREATE FUNCTION order_reach_rebuild() RETURNS void LANGUAGE sql AS $$
        DELETE FROM order_reach;
        INSERT INTO order_reach (ancestor_id, order_id) {REACH.format(orders="true")};
    $$""",
    # an order's parties were rewritten (called by order_party_refresh)
    f"""CREATE FUNCTION order_reach_of_order(p_order uuid) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock_shared({HIERARCHY_LOCK_KEY});
        PERFORM order_reach_refresh(ARRAY[p_order]);
    END $$""",
    # closure rows changed: the orders with a party among their descendants
    """CREATE FUNCTION order_reach_follow_closure() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM order_reach_refresh(ARRAY(
            SELECT DISTINCT op.order_id FROM order_party op
            WHERE op.contact_id IN (SELECT descendant_id FROM changed)));
        RETURN NULL;
    END $$""",
]

PARTY_REFRESH = """CREATE OR REPLACE FUNCTION order_party_refresh(p_order uuid) RETURNS void LANGUAGE sql AS $$
    DELETE FROM order_party WHERE order_id = p_order;
    INSERT INTO order_party (order_id, contact_id)
    SELECT id, account_contact_id FROM sales_order WHERE id = p_order
    UNION
    SELECT id, end_customer_contact_id FROM sales_order WHERE id = p_order AND end_customer_contact_id IS NOT NULL
    UNION
    SELECT order_id, contact_id FROM order_channel WHERE order_id = p_order;
    {reach}
$$"""
PARTY_REBUILD = """CREATE OR REPLACE FUNCTION order_party_rebuild() RETURNS void LANGUAGE sql AS $$
    DELETE FROM order_party;
    INSERT INTO order_party (order_id, contact_id)
    SELECT id, account_contact_id FROM sales_order
    UNION
    SELECT id, end_customer_contact_id FROM sales_order WHERE end_customer_contact_id IS NOT NULL
    UNION
    SELECT order_id, contact_id FROM order_channel;
    {reach}
$$"""

SCOPE = "SELECT descendant_id FROM contact_closure WHERE ancestor_id = chargecars_viewer_root()"


def reached(order_id: str) -> str:
    """The viewer's scope reaches the order `order_id` (a column): one primary-key probe."""
    return (
        f"EXISTS (SELECT 1 FROM order_reach reach "
        f"WHERE reach.ancestor_id = chargecars_viewer_root() AND reach.order_id = {order_id})"
    )


def status_rule(table: str) -> str:
    return (
        f"CASE {table}.entity_type WHEN 'order' THEN {reached(f'{table}.entity_id')} "
        f"WHEN 'partner_commission' THEN chargecars_sees_commission({table}.entity_id) ELSE false END"
    )


# The read rules of chargecars_api, written out in each policy rather than called as functions:
# order_reach, order_party and contact_closure have no policy of their own, so a policy may read
# them directly, and PostgreSQL plans such a subquery with the statement (a probe per row read,
# or one hashed set) where a function was a call per row. Columns are qualified by their table:
# inside a subquery an unqualified `order_id` would be order_reach's.
POLICIES = {
    "sales_order": "id IN (SELECT order_id FROM order_reach WHERE ancestor_id = chargecars_viewer_root())",
    "order_channel": reached("order_channel.order_id"),
    "line_item": reached("line_item.order_id"),
    "order_hold": reached("order_hold.order_id"),
    "status_transition": status_rule("status_transition"),
    "entity_current_status": status_rule("entity_current_status"),
    # a contact outside the scope is tested by a function: written out, PostgreSQL would hash
    # "every contact on an order the scope reaches" (tens of thousands for a large partner)
    # to test a page of contacts
    "contact": f"contact.id IN ({SCOPE}) OR chargecars_sees_contact_outside(contact.id)",
}
# what the policies called before (0006-0008), no longer used
REPLACED = ("chargecars_sees_entity(text, uuid)", "chargecars_sees_order(uuid)")

# per row, for the contacts a statement reads: an ancestor of the viewer, or a party to an order
# the scope reaches (the first such order ends the search); costly, so the planner tests the
# cheap conditions first
SEES_CONTACT_OUTSIDE = """CREATE OR REPLACE FUNCTION chargecars_sees_contact_outside(p_contact uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER COST 10000 SET search_path = public SET plan_cache_mode = auto AS $$
    SELECT EXISTS (SELECT 1 FROM contact_closure
                   WHERE ancestor_id = p_contact AND descendant_id = chargecars_viewer_contact() AND depth > 0)
        OR EXISTS (SELECT 1 FROM order_party mine JOIN order_reach reach ON reach.order_id = mine.order_id
                   WHERE mine.contact_id = p_contact AND reach.ancestor_id = chargecars_viewer_root()) $$"""


def upgrade() -> None:
    op.create_table(
        "order_reach",
        sa.Column("ancestor_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ancestor_id"], ["contact.id"], name=op.f("fk_order_reach_ancestor_id_contact"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_order_reach_order_id_sales_order"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("ancestor_id", "order_id", name=op.f("pk_order_reach")),
    )
    op.create_index("ix_order_reach_order", "order_reach", ["order_id"])
    for function in FUNCTIONS:
        op.execute(function)
    op.execute(PARTY_REFRESH.format(reach="SELECT order_reach_of_order(p_order);"))
    op.execute(PARTY_REBUILD.format(reach="SELECT order_reach_rebuild();"))
    for event, table in (("INSERT", "NEW"), ("DELETE", "OLD")):
        op.execute(
            f"CREATE TRIGGER order_reach_after_closure_{event.lower()} AFTER {event} ON contact_closure "
            f"REFERENCING {table} TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION order_reach_follow_closure()"
        )
    op.execute("SELECT order_reach_rebuild()")
    op.execute(SEES_CONTACT_OUTSIDE)
    for table, rule in POLICIES.items():
        op.execute(f"ALTER POLICY {table}_read ON {table} USING ({rule})")
    for name in REPLACED:
        op.execute(f"DROP FUNCTION {name}")


def downgrade() -> None:
    from importlib.util import module_from_spec, spec_from_file_location
    from pathlib import Path

    def previous(name: str) -> Any:
        spec = spec_from_file_location(name, Path(__file__).with_name(name + ".py"))
        assert spec is not None and spec.loader is not None
        module = module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    rls = previous("2026_11_23_0006_row_level_security")
    parties = previous("2026_11_23_0007_order_parties")
    staff = previous("2026_11_23_0008_staff_role")
    op.execute(staff.FUNCTIONS[0])  # chargecars_sees_order, as 0008 made it
    op.execute(staff.FUNCTIONS[2])  # chargecars_sees_entity
    op.execute(parties.SEES_CONTACT_OUTSIDE)
    op.execute("ALTER FUNCTION chargecars_sees_contact_outside(uuid) SET plan_cache_mode = auto")
    rules = {**rls.POLICIES, "order_channel": "chargecars_sees_order(order_id)", **staff.READ}
    for table in POLICIES:
        op.execute(f"ALTER POLICY {table}_read ON {table} USING ({rules[table]})")
    op.execute(PARTY_REFRESH.format(reach=""))
    op.execute(PARTY_REBUILD.format(reach=""))
    op.execute("DROP TRIGGER order_reach_after_closure_delete ON contact_closure")
    op.execute("DROP TRIGGER order_reach_after_closure_insert ON contact_closure")
    for name in (
        "order_reach_follow_closure()",
        "order_reach_of_order(uuid)",
        "order_reach_rebuild()",
        "order_reach_refresh(uuid[])",
    ):
        op.execute(f"DROP FUNCTION {name}")
    op.drop_index("ix_order_reach_order", table_name="order_reach")
    op.drop_table("order_reach")
