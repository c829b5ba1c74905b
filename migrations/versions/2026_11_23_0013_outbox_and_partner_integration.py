"""the job queue, the outbox and partner integration

- PgQueuer's tables (the job queue the worker runs; docs/integration.md), as the installed
  PgQueuer version lays them out; the API role has no access to them;
- `outbox_event`: the events, written in the transaction that published them;
- `partner_integration` (one per partner organisation) with its `partner_product` codes,
  `partner_order` (an order's partner references; unique per partner and reference),
  `webhook_delivery` and `webhook_attempt` (the delivery log), `partner_api_call` (every call a
  partner's token made) and `partner_rate_window` (its calls per minute, across API processes);
- row-level security: a restricted viewer reads the partner references of the orders its scope
  reaches, and the deliveries and calls of the organisations in its scope; the configurations,
  the outbox and the counters are staff-only.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment
from sqlalchemy.dialects import postgresql
from sqlalchemy.util import await_only

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SCOPE = "SELECT descendant_id FROM contact_closure WHERE ancestor_id = chargecars_viewer_root()"
READS = {
    "partner_order": (
        "EXISTS (SELECT 1 FROM order_reach reach "
        "WHERE reach.ancestor_id = chargecars_viewer_root() AND reach.order_id = partner_order.order_id)"
    ),
    "webhook_delivery": f"organization_id IN ({SCOPE})",
    "webhook_attempt": "delivery_id IN (SELECT id FROM webhook_delivery)",
    "partner_api_call": f"organization_id IN ({SCOPE})",
}
TABLES = (
    "outbox_event",
    "partner_integration",
    "partner_product",
    "partner_order",
    "webhook_delivery",
    "webhook_attempt",
    "partner_api_call",
    "partner_rate_window",
)
QUEUE_TABLES = ("pgqueuer", "pgqueuer_log", "pgqueuer_schedules", "pgqueuer_statistics")


def _queue_script(sql: str) -> None:
    """A multi-statement script, sent as one simple query on the migration's connection."""
    connection = op.get_bind().connection.driver_connection
    assert connection is not None
    await_only(connection.execute(sql))


def upgrade() -> None:
    _queue_script(QueryBuilderEnvironment().build_install_query())
    for table in QUEUE_TABLES:
        op.execute(f"REVOKE ALL ON {table} FROM chargecars_api")
    op.create_table(
        "outbox_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("event_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_event_id")),
    )
    op.create_index(op.f("ix_outbox_event_order_id"), "outbox_event", ["order_id"], unique=False)
    op.create_index(
        "ix_outbox_event_undispatched", "outbox_event", ["id"], unique=False, postgresql_where="dispatched_at IS NULL"
    )
    op.create_table(
        "partner_api_call",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("organization_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("operation", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=60), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_api_call")),
    )
    op.create_index("ix_partner_api_call_organization_at", "partner_api_call", ["organization_id", "at"], unique=False)
    op.create_table(
        "partner_rate_window",
        sa.Column("organization_id", sa.UUID(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "window_start", name=op.f("pk_partner_rate_window")),
    )
    op.create_table(
        "partner_integration",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organization_id", sa.UUID(), nullable=False),
        sa.Column("business_entity_id", sa.UUID(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("test_mode", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("status_mapping", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("events", postgresql.ARRAY(sa.String(length=60)), server_default="{}", nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("signing_secret", sa.String(length=100), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), server_default="120", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("rate_limit_per_minute > 0", name=op.f("ck_partner_integration_rate_limit_positive")),
        sa.ForeignKeyConstraint(
            ["business_entity_id"],
            ["business_entity.id"],
            name=op.f("fk_partner_integration_business_entity_id_business_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["contact.id"],
            name=op.f("fk_partner_integration_organization_id_contact"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_integration")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_partner_integration_organization_id")),
    )
    op.create_table(
        "partner_product",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("integration_id", sa.UUID(), nullable=False),
        sa.Column("partner_code", sa.String(length=64), nullable=False),
        sa.Column("article_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["article.id"], name=op.f("fk_partner_product_article_id_article"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["partner_integration.id"],
            name=op.f("fk_partner_product_integration_id_partner_integration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_product")),
        sa.UniqueConstraint(
            "integration_id", "partner_code", name=op.f("uq_partner_product_integration_id_partner_code")
        ),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("integration_id", sa.UUID(), nullable=False),
        sa.Column("organization_id", sa.UUID(), nullable=False),
        sa.Column("outbox_event_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "delivering", "delivered", "dead", name="webhook_delivery_status"),
            nullable=False,
        ),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("attempt_budget", sa.SmallInteger(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["partner_integration.id"],
            name=op.f("fk_webhook_delivery_integration_id_partner_integration"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["outbox_event_id"],
            ["outbox_event.id"],
            name=op.f("fk_webhook_delivery_outbox_event_id_outbox_event"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint(
            "integration_id", "outbox_event_id", name=op.f("uq_webhook_delivery_integration_id_outbox_event_id")
        ),
    )
    op.create_index(
        "ix_webhook_delivery_integration_created", "webhook_delivery", ["integration_id", "created_at"], unique=False
    )
    op.create_index(op.f("ix_webhook_delivery_order_id"), "webhook_delivery", ["order_id"], unique=False)
    op.create_index(op.f("ix_webhook_delivery_organization_id"), "webhook_delivery", ["organization_id"], unique=False)
    op.create_table(
        "partner_order",
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("integration_id", sa.UUID(), nullable=False),
        sa.Column("partner_reference", sa.String(length=100), nullable=False),
        sa.Column("po_number", sa.String(length=100), nullable=True),
        sa.Column("dealer_code", sa.String(length=100), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("last_known_status", sa.String(length=100), nullable=True),
        sa.Column("last_sync_error", sa.Text(), nullable=True),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["partner_integration.id"],
            name=op.f("fk_partner_order_integration_id_partner_integration"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_partner_order_order_id_sales_order"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_partner_order")),
        sa.UniqueConstraint(
            "integration_id", "partner_reference", name=op.f("uq_partner_order_integration_id_partner_reference")
        ),
    )
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("delivery_id", sa.UUID(), nullable=False),
        sa.Column("attempt", sa.SmallInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("response_excerpt", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_delivery.id"],
            name=op.f("fk_webhook_attempt_delivery_id_webhook_delivery"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempt")),
        sa.UniqueConstraint("delivery_id", "attempt", name=op.f("uq_webhook_attempt_delivery_id_attempt")),
    )
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_staff ON {table} FOR ALL TO chargecars_staff USING (true) WITH CHECK (true)")
    for table, rule in READS.items():
        op.execute(f"CREATE POLICY {table}_read ON {table} FOR SELECT TO chargecars_api USING ({rule})")


def downgrade() -> None:
    op.drop_table("webhook_attempt")
    op.drop_table("partner_order")
    op.drop_index(op.f("ix_webhook_delivery_organization_id"), table_name="webhook_delivery")
    op.drop_index(op.f("ix_webhook_delivery_order_id"), table_name="webhook_delivery")
    op.drop_index("ix_webhook_delivery_integration_created", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_table("partner_product")
    op.drop_table("partner_integration")
    op.drop_table("partner_rate_window")
    op.drop_index("ix_partner_api_call_organization_at", table_name="partner_api_call")
    op.drop_table("partner_api_call")
    op.drop_index("ix_outbox_event_undispatched", table_name="outbox_event", postgresql_where="dispatched_at IS NULL")
    op.drop_index(op.f("ix_outbox_event_order_id"), table_name="outbox_event")
    op.drop_table("outbox_event")
    op.execute("DROP TYPE webhook_delivery_status")
    _queue_script(QueryBuilderEnvironment().build_uninstall_query())
