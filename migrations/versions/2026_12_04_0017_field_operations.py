"""field operations: quotes with revisions, visits without double booking, installer teams,
work orders with checklist, installation record and seals, documents

- `btree_gist`, so that `visit_installer` can refuse an installer booked twice at overlapping
  times (an exclusion constraint over the booking's time range, while the booking holds);
- `quote` (+ `quote_channel`, `quote_line`): numbered from the brand's quote series, revisions
  share the number and the series; `order_id` is the order its acceptance created;
- `visit` (+ `visit_installer`, `site_survey`), `installer_team` (+ members);
- `work_order` (+ `work_order_task`, `installation_record`, `seal_usage`: each seal number
  placed once and removed once), `line_item.work_order_id` for extra work found on site;
- `document`: one parent of five kinds, the bytes outside the database;
- the workflows of quotes, visits and work orders;
- row-level security: each table follows its parent (docs/design.md, "Visibility"); a booking
  carries its visit's order and quote and is visible with them or to its installer's scope;
  teams are staff's only; the parties of a visible quote and the installers of visible bookings
  are contacts the viewer sees (name and what working the job needs).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROOT = "chargecars_viewer_root()"
SCOPE = f"SELECT descendant_id FROM contact_closure WHERE ancestor_id = {ROOT}"


def reached(order_id: str) -> str:
    return f"EXISTS (SELECT 1 FROM order_reach reach WHERE reach.ancestor_id = {ROOT} AND reach.order_id = {order_id})"


DEFINER = "LANGUAGE sql STABLE SECURITY DEFINER COST 10000 SET search_path = public SET plan_cache_mode = auto"
FUNCTIONS = {
    "chargecars_sees_quote(uuid)": f"""CREATE FUNCTION chargecars_sees_quote(p_quote uuid) RETURNS boolean {DEFINER} AS $$
        SELECT EXISTS (SELECT 1 FROM quote q JOIN contact_closure cc
                           ON cc.descendant_id IN (q.account_contact_id, q.end_customer_contact_id)
                       WHERE q.id = p_quote AND cc.ancestor_id = {ROOT})
            OR EXISTS (SELECT 1 FROM quote_channel ch JOIN contact_closure cc ON cc.descendant_id = ch.contact_id
                       WHERE ch.quote_id = p_quote AND cc.ancestor_id = {ROOT}) $$""",
    "chargecars_sees_visit(uuid)": f"""CREATE FUNCTION chargecars_sees_visit(p_visit uuid) RETURNS boolean {DEFINER} AS $$
        SELECT EXISTS (SELECT 1 FROM visit v WHERE v.id = p_visit
                       AND CASE WHEN v.order_id IS NOT NULL THEN {reached("v.order_id")}
                                ELSE chargecars_sees_quote(v.quote_id) END)
            OR EXISTS (SELECT 1 FROM visit_installer vi JOIN contact_closure cc
                           ON cc.descendant_id = vi.installer_contact_id
                       WHERE vi.visit_id = p_visit AND cc.ancestor_id = {ROOT}) $$""",
    "chargecars_sees_work_order(uuid)": f"""CREATE FUNCTION chargecars_sees_work_order(p_work_order uuid) RETURNS boolean
        {DEFINER} AS $$
        SELECT EXISTS (SELECT 1 FROM work_order w JOIN order_reach reach ON reach.order_id = w.order_id
                       WHERE w.id = p_work_order AND reach.ancestor_id = {ROOT})
            OR EXISTS (SELECT 1 FROM visit v JOIN visit_installer vi ON vi.visit_id = v.id
                           JOIN contact_closure cc ON cc.descendant_id = vi.installer_contact_id
                       WHERE v.work_order_id = p_work_order AND cc.ancestor_id = {ROOT}) $$""",
}
# 0009's rule of the contacts outside the scope, and the parties of visible quotes and the
# installers of visible visits with it
CONTACT_OUTSIDE = """CREATE OR REPLACE FUNCTION chargecars_sees_contact_outside(p_contact uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER COST 10000 SET search_path = public SET plan_cache_mode = auto AS $$
    SELECT EXISTS (SELECT 1 FROM contact_closure
                   WHERE ancestor_id = p_contact AND descendant_id = chargecars_viewer_contact() AND depth > 0)
        OR EXISTS (SELECT 1 FROM order_party mine JOIN order_reach reach ON reach.order_id = mine.order_id
                   WHERE mine.contact_id = p_contact AND reach.ancestor_id = chargecars_viewer_root()){more} $$"""
CONTACT_MORE = """
        OR EXISTS (SELECT 1 FROM quote q WHERE q.account_contact_id = p_contact AND chargecars_sees_quote(q.id))
        OR EXISTS (SELECT 1 FROM quote q WHERE q.end_customer_contact_id = p_contact AND chargecars_sees_quote(q.id))
        OR EXISTS (SELECT 1 FROM quote_channel ch WHERE ch.contact_id = p_contact AND chargecars_sees_quote(ch.quote_id))
        OR EXISTS (SELECT 1 FROM visit_installer vi JOIN order_reach reach ON reach.order_id = vi.order_id
                   WHERE vi.installer_contact_id = p_contact AND reach.ancestor_id = chargecars_viewer_root())
        OR EXISTS (SELECT 1 FROM visit_installer vi
                   WHERE vi.installer_contact_id = p_contact AND vi.quote_id IS NOT NULL
                     AND chargecars_sees_quote(vi.quote_id))"""
READ = {
    "quote": "chargecars_sees_quote(id)",
    "quote_channel": "chargecars_sees_quote(quote_id)",
    "quote_line": "chargecars_sees_quote(quote_id)",
    # written out (no function per row): the viewer's orders and scope are hashed once per statement
    "visit": (
        f"order_id IN (SELECT order_id FROM order_reach WHERE ancestor_id = {ROOT}) "
        "OR (quote_id IS NOT NULL AND chargecars_sees_quote(quote_id)) "
        f"OR id IN (SELECT visit_id FROM visit_installer WHERE installer_contact_id IN ({SCOPE}))"
    ),
    "visit_installer": (
        f"order_id IN (SELECT order_id FROM order_reach WHERE ancestor_id = {ROOT}) "
        "OR (quote_id IS NOT NULL AND chargecars_sees_quote(quote_id)) "
        f"OR installer_contact_id IN ({SCOPE})"
    ),
    "site_survey": "chargecars_sees_visit(visit_id)",
    "work_order": "chargecars_sees_work_order(id)",
    "work_order_task": "chargecars_sees_work_order(work_order_id)",
    "installation_record": "chargecars_sees_work_order(work_order_id)",
    "seal_usage": "chargecars_sees_work_order(work_order_id)",
    "document": (
        f"CASE WHEN order_id IS NOT NULL THEN {reached('document.order_id')} "
        "WHEN quote_id IS NOT NULL THEN chargecars_sees_quote(quote_id) "
        "WHEN visit_id IS NOT NULL THEN chargecars_sees_visit(visit_id) "
        "WHEN work_order_id IS NOT NULL THEN chargecars_sees_work_order(work_order_id) "
        f"ELSE contact_id IN ({SCOPE}) END"
    ),
}
STAFF_ONLY = ("installer_team", "installer_team_member")


def _document_reached(table: str) -> str:
    return (
        f"EXISTS (SELECT 1 FROM invoice document JOIN order_reach reach ON reach.order_id = document.order_id "
        f"WHERE document.id = {table}.entity_id AND reach.ancestor_id = {ROOT})"
    )


def status_rule(table: str, with_operations: bool) -> str:
    """The read rule of the status tables (0011's, and the field operations' entity types)."""
    operations = (
        f"WHEN 'quote' THEN chargecars_sees_quote({table}.entity_id) "
        f"WHEN 'visit' THEN chargecars_sees_visit({table}.entity_id) "
        f"WHEN 'work_order' THEN chargecars_sees_work_order({table}.entity_id) "
        if with_operations
        else ""
    )
    return (
        f"CASE {table}.entity_type WHEN 'order' THEN {reached(f'{table}.entity_id')} "
        f"WHEN 'partner_commission' THEN chargecars_sees_commission({table}.entity_id) "
        f"WHEN 'invoice' THEN {_document_reached(table)} WHEN 'credit_note' THEN {_document_reached(table)} "
        f"{operations}ELSE false END"
    )


# (status, label, colour, order, type, allowed transitions, final)
WORKFLOWS = {
    "quote": (
        "Quote",
        "Draft, sent, and then accepted (which creates the order), rejected, expired or superseded.",
        [
            ("draft", "Draft", "#6B7280", 10, "normal", ["sent"], False),
            ("sent", "Sent", "#3B82F6", 20, "normal", ["accepted", "rejected", "expired", "superseded"], False),
            ("accepted", "Accepted", "#059669", 30, "normal", [], True),
            ("rejected", "Rejected", "#DC2626", 90, "exit", [], True),
            ("expired", "Expired", "#9CA3AF", 91, "exit", [], True),
            ("superseded", "Superseded", "#A855F7", 92, "exit", [], True),
        ],
    ),
    "visit": (
        "Visit",
        "A field appointment: planned, confirmed, on the way, on site, done; or no-show, cancelled.",
        [
            ("planned", "Planned", "#6B7280", 10, "normal", ["confirmed", "cancelled"], False),
            ("confirmed", "Confirmed", "#3B82F6", 20, "normal", ["on_the_way", "planned", "cancelled"], False),
            ("on_the_way", "On the way", "#F59E0B", 30, "normal", ["on_site", "no_show", "confirmed"], False),
            ("on_site", "On site", "#F97316", 40, "normal", ["done", "no_show"], False),
            ("done", "Done", "#059669", 50, "normal", [], True),
            ("no_show", "No-show", "#DC2626", 90, "exit", [], True),
            ("cancelled", "Cancelled", "#9CA3AF", 91, "exit", [], True),
        ],
    ),
    "work_order": (
        "Work order",
        "Installation or service work: open, in progress, completed (reopened as rework); or cancelled.",
        [
            ("open", "Open", "#6B7280", 10, "normal", ["in_progress", "cancelled"], False),
            ("in_progress", "In progress", "#F59E0B", 20, "normal", ["completed", "open", "cancelled"], False),
            ("completed", "Completed", "#059669", 30, "normal", ["in_progress"], False),
            ("cancelled", "Cancelled", "#9CA3AF", 90, "exit", [], True),
        ],
    ),
}


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "installer_team",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installer_team")),
        sa.UniqueConstraint("name", name=op.f("uq_installer_team_name")),
    )
    op.create_table(
        "installer_team_member",
        sa.Column("team_id", sa.UUID(), nullable=False),
        sa.Column("installer_contact_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["installer_contact_id"],
            ["contact.id"],
            name=op.f("fk_installer_team_member_installer_contact_id_contact"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["installer_team.id"],
            name=op.f("fk_installer_team_member_team_id_installer_team"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "installer_contact_id", name=op.f("pk_installer_team_member")),
    )
    op.create_table(
        "quote",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("business_entity_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("revision", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("series_id", sa.UUID(), nullable=False),
        sa.Column("supersedes_id", sa.UUID(), nullable=True),
        sa.Column("account_contact_id", sa.UUID(), nullable=False),
        sa.Column("end_customer_contact_id", sa.UUID(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column("created_by_account_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_quote_revision_positive")),
        sa.ForeignKeyConstraint(
            ["account_contact_id"],
            ["contact.id"],
            name=op.f("fk_quote_account_contact_id_contact"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["business_entity_id"],
            ["business_entity.id"],
            name=op.f("fk_quote_business_entity_id_business_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"],
            ["user_account.id"],
            name=op.f("fk_quote_created_by_account_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["end_customer_contact_id"],
            ["contact.id"],
            name=op.f("fk_quote_end_customer_contact_id_contact"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_quote_order_id_sales_order"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["quote.id"], name=op.f("fk_quote_supersedes_id_quote"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote")),
        sa.UniqueConstraint("number", "revision", name=op.f("uq_quote_number_revision")),
        sa.UniqueConstraint("order_id", name=op.f("uq_quote_order_id")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_quote_supersedes_id")),
    )
    op.create_index(op.f("ix_quote_account_contact_id"), "quote", ["account_contact_id"], unique=False)
    op.create_index(op.f("ix_quote_end_customer_contact_id"), "quote", ["end_customer_contact_id"], unique=False)
    op.create_index(op.f("ix_quote_series_id"), "quote", ["series_id"], unique=False)
    op.create_table(
        "work_order",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("business_entity_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_by_account_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('installation', 'service')", name=op.f("ck_work_order_kind_known")),
        sa.ForeignKeyConstraint(
            ["business_entity_id"],
            ["business_entity.id"],
            name=op.f("fk_work_order_business_entity_id_business_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"],
            ["user_account.id"],
            name=op.f("fk_work_order_created_by_account_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_work_order_order_id_sales_order"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order")),
        sa.UniqueConstraint("number", name=op.f("uq_work_order_number")),
    )
    op.create_index(op.f("ix_work_order_order_id"), "work_order", ["order_id"], unique=False)
    op.create_table(
        "installation_record",
        sa.Column("work_order_id", sa.UUID(), nullable=False),
        sa.Column("charger_make", sa.String(length=100), nullable=False),
        sa.Column("charger_model", sa.String(length=100), nullable=False),
        sa.Column("serial_number", sa.String(length=100), nullable=False),
        sa.Column("meter_reading_kwh", sa.Numeric(precision=12, scale=1), nullable=False),
        sa.Column("earth_resistance_ohm", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("insulation_resistance_mohm", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("rcd_trip_time_ms", sa.Numeric(precision=6, scale=1), nullable=False),
        sa.Column("tests_passed", sa.Boolean(), nullable=False),
        sa.Column("recorded_by_account_id", sa.UUID(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "meter_reading_kwh >= 0 AND earth_resistance_ohm >= 0 AND insulation_resistance_mohm >= 0 AND rcd_trip_time_ms >= 0",
            name=op.f("ck_installation_record_readings_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_account_id"],
            ["user_account.id"],
            name=op.f("fk_installation_record_recorded_by_account_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
            name=op.f("fk_installation_record_work_order_id_work_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("work_order_id", name=op.f("pk_installation_record")),
    )
    op.create_table(
        "quote_channel",
        sa.Column("quote_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("contact_id", sa.UUID(), nullable=False),
        sa.CheckConstraint("position >= 1", name=op.f("ck_quote_channel_position_positive")),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_quote_channel_contact_id_contact"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quote.id"], name=op.f("fk_quote_channel_quote_id_quote"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("quote_id", "position", name=op.f("pk_quote_channel")),
        sa.UniqueConstraint("quote_id", "contact_id", name=op.f("uq_quote_channel_quote_id_contact_id")),
    )
    op.create_index(op.f("ix_quote_channel_contact_id"), "quote_channel", ["contact_id"], unique=False)
    op.create_table(
        "quote_line",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("quote_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("article_id", sa.UUID(), nullable=True),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("discount_percent", sa.Numeric(precision=5, scale=2), server_default=sa.text("0"), nullable=False),
        sa.Column("vat_rate", sa.Numeric(precision=4, scale=2), nullable=False),
        sa.Column("is_commissionable", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_quote_line_quantity_positive")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_quote_line_unit_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["article_id"], ["article.id"], name=op.f("fk_quote_line_article_id_article"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quote.id"], name=op.f("fk_quote_line_quote_id_quote"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_line")),
        sa.UniqueConstraint("quote_id", "position", name=op.f("uq_quote_line_quote_id_position")),
    )
    op.create_table(
        "seal_usage",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("work_order_id", sa.UUID(), nullable=False),
        sa.Column("seal_number", sa.String(length=30), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("recorded_by_account_id", sa.UUID(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("action IN ('removed', 'placed')", name=op.f("ck_seal_usage_action_known")),
        sa.ForeignKeyConstraint(
            ["recorded_by_account_id"],
            ["user_account.id"],
            name=op.f("fk_seal_usage_recorded_by_account_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
            name=op.f("fk_seal_usage_work_order_id_work_order"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_usage")),
        sa.UniqueConstraint("action", "seal_number", name="uq_seal_usage_once"),
    )
    op.create_index(op.f("ix_seal_usage_work_order_id"), "seal_usage", ["work_order_id"], unique=False)
    op.create_table(
        "visit",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("business_entity_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column("quote_id", sa.UUID(), nullable=True),
        sa.Column("work_order_id", sa.UUID(), nullable=True),
        sa.Column("team_id", sa.UUID(), nullable=True),
        sa.Column("visit_type", sa.String(length=20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("house_number", sa.String(length=20), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_by_account_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("visit_type IN ('inspection', 'installation', 'service')", name=op.f("ck_visit_type_known")),
        sa.CheckConstraint("(order_id IS NULL) <> (quote_id IS NULL)", name=op.f("ck_visit_for_order_or_quote")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_visit_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["business_entity_id"],
            ["business_entity.id"],
            name=op.f("fk_visit_business_entity_id_business_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"],
            ["user_account.id"],
            name=op.f("fk_visit_created_by_account_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_visit_order_id_sales_order"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(["quote_id"], ["quote.id"], name=op.f("fk_visit_quote_id_quote"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(
            ["team_id"], ["installer_team.id"], name=op.f("fk_visit_team_id_installer_team"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_order.id"], name=op.f("fk_visit_work_order_id_work_order"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
    )
    op.create_index(op.f("ix_visit_order_id"), "visit", ["order_id"], unique=False)
    op.create_index(op.f("ix_visit_quote_id"), "visit", ["quote_id"], unique=False)
    op.create_index("ix_visit_starts_at", "visit", ["starts_at"], unique=False)
    op.create_index(op.f("ix_visit_work_order_id"), "visit", ["work_order_id"], unique=False)
    op.create_table(
        "work_order_task",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("work_order_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by_account_id", sa.UUID(), nullable=True),
        sa.ForeignKeyConstraint(
            ["done_by_account_id"],
            ["user_account.id"],
            name=op.f("fk_work_order_task_done_by_account_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
            name=op.f("fk_work_order_task_work_order_id_work_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_task")),
        sa.UniqueConstraint("work_order_id", "position", name=op.f("uq_work_order_task_work_order_id_position")),
    )
    op.create_table(
        "document",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column("quote_id", sa.UUID(), nullable=True),
        sa.Column("visit_id", sa.UUID(), nullable=True),
        sa.Column("work_order_id", sa.UUID(), nullable=True),
        sa.Column("contact_id", sa.UUID(), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.String(length=40)), server_default="{}", nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by_account_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "category IN ('photo', 'signed_quote', 'certificate', 'drawing', 'other')",
            name=op.f("ck_document_category_known"),
        ),
        sa.CheckConstraint(
            "num_nonnulls(order_id, quote_id, visit_id, work_order_id, contact_id) = 1",
            name=op.f("ck_document_one_parent"),
        ),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_document_size_positive")),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_document_contact_id_contact"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_document_order_id_sales_order"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quote.id"], name=op.f("fk_document_quote_id_quote"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_account_id"],
            ["user_account.id"],
            name=op.f("fk_document_uploaded_by_account_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name=op.f("fk_document_visit_id_visit"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_order.id"], name=op.f("fk_document_work_order_id_work_order"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_document_storage_key")),
    )
    op.create_index(op.f("ix_document_contact_id"), "document", ["contact_id"], unique=False)
    op.create_index(op.f("ix_document_order_id"), "document", ["order_id"], unique=False)
    op.create_index(op.f("ix_document_quote_id"), "document", ["quote_id"], unique=False)
    op.create_index(op.f("ix_document_visit_id"), "document", ["visit_id"], unique=False)
    op.create_index(op.f("ix_document_work_order_id"), "document", ["work_order_id"], unique=False)
    op.create_table(
        "site_survey",
        sa.Column("visit_id", sa.UUID(), nullable=False),
        sa.Column("meter_cabinet", sa.String(length=30), nullable=False),
        sa.Column("phases", sa.SmallInteger(), nullable=False),
        sa.Column("main_fuse_amps", sa.SmallInteger(), nullable=False),
        sa.Column("cable_route", sa.Text(), nullable=True),
        sa.Column("cable_length_m", sa.Numeric(precision=6, scale=1), nullable=False),
        sa.Column("mounting", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by_account_id", sa.UUID(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "meter_cabinet IN ('ready', 'needs_upgrade', 'needs_replacement')",
            name=op.f("ck_site_survey_cabinet_known"),
        ),
        sa.CheckConstraint(
            "mounting IN ('wall', 'pole', 'garage', 'carport')", name=op.f("ck_site_survey_mounting_known")
        ),
        sa.CheckConstraint("cable_length_m >= 0 AND cable_length_m <= 500", name=op.f("ck_site_survey_cable_range")),
        sa.CheckConstraint("main_fuse_amps BETWEEN 6 AND 250", name=op.f("ck_site_survey_fuse_range")),
        sa.CheckConstraint("phases IN (1, 3)", name=op.f("ck_site_survey_phases_known")),
        sa.ForeignKeyConstraint(
            ["recorded_by_account_id"],
            ["user_account.id"],
            name=op.f("fk_site_survey_recorded_by_account_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name=op.f("fk_site_survey_visit_id_visit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("visit_id", name=op.f("pk_site_survey")),
    )
    op.create_table(
        "visit_installer",
        sa.Column("visit_id", sa.UUID(), nullable=False),
        sa.Column("installer_contact_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column("quote_id", sa.UUID(), nullable=True),
        sa.Column("during", postgresql.TSTZRANGE(), nullable=False),
        sa.Column("holds", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        postgresql.ExcludeConstraint(
            (sa.column("installer_contact_id"), "="),
            (sa.column("during"), "&&"),
            where=sa.text("holds"),
            using="gist",
            name="no_double_booking",
        ),
        sa.ForeignKeyConstraint(
            ["installer_contact_id"],
            ["contact.id"],
            name=op.f("fk_visit_installer_installer_contact_id_contact"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name=op.f("fk_visit_installer_visit_id_visit"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_visit_installer_order_id_sales_order"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quote.id"], name=op.f("fk_visit_installer_quote_id_quote"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("visit_id", "installer_contact_id", name=op.f("pk_visit_installer")),
    )
    op.create_index("ix_visit_installer_installer", "visit_installer", ["installer_contact_id"], unique=False)
    op.create_index(op.f("ix_visit_installer_order_id"), "visit_installer", ["order_id"], unique=False)
    op.add_column("line_item", sa.Column("work_order_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_line_item_work_order_id_work_order"),
        "line_item",
        "work_order",
        ["work_order_id"],
        ["id"],
        ondelete="RESTRICT",
    )

    for function in FUNCTIONS.values():
        op.execute(function)
    op.execute(CONTACT_OUTSIDE.format(more=CONTACT_MORE))
    for table in (*READ, *STAFF_ONLY):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_staff ON {table} FOR ALL TO chargecars_staff USING (true) WITH CHECK (true)")
    for table, rule in READ.items():
        op.execute(f"CREATE POLICY {table}_read ON {table} FOR SELECT TO chargecars_api USING ({rule})")
    for table in ("status_transition", "entity_current_status"):
        op.execute(f"ALTER POLICY {table}_read ON {table} USING ({status_rule(table, with_operations=True)})")
    bind = op.get_bind()
    for entity_type, (name, description, steps) in WORKFLOWS.items():
        workflow_id = bind.execute(
            sa.text(
                "INSERT INTO status_workflow (entity_type, name, description, is_default) "
                "VALUES (:entity_type, :name, :description, true) RETURNING id"
            ),
            {"entity_type": entity_type, "name": name, "description": description},
        ).scalar_one()
        for status, label, color, order, kind, allowed, final in steps:
            bind.execute(
                sa.text(
                    "INSERT INTO status_workflow_step (workflow_id, status_name, label, color, step_order, "
                    "step_type, allowed_transitions, is_final) VALUES (:workflow, :status, :label, :color, :order, "
                    "CAST(:kind AS status_step_type), CAST(:allowed AS varchar(40)[]), :final)"
                ),
                {"workflow": workflow_id, "status": status, "label": label, "color": color, "order": order,
                 "kind": kind, "allowed": allowed, "final": final},
            )  # fmt: skip


def downgrade() -> None:
    op.execute("DELETE FROM status_workflow WHERE entity_type IN ('quote', 'visit', 'work_order')")
    for table in ("status_transition", "entity_current_status"):
        op.execute(f"ALTER POLICY {table}_read ON {table} USING ({status_rule(table, with_operations=False)})")
    op.execute(CONTACT_OUTSIDE.format(more=""))
    for table in READ:  # the written-out rules read other tables of this revision
        op.execute(f"DROP POLICY {table}_read ON {table}")
    op.drop_constraint(op.f("fk_line_item_work_order_id_work_order"), "line_item", type_="foreignkey")
    op.drop_column("line_item", "work_order_id")
    for table in (
        "visit_installer",
        "site_survey",
        "document",
        "work_order_task",
        "visit",
        "seal_usage",
        "quote_line",
        "quote_channel",
        "installation_record",
        "work_order",
        "quote",
        "installer_team_member",
        "installer_team",
    ):
        op.drop_table(table)
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
