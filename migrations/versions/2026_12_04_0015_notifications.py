"""notifications: templates per brand, event and language; the communication log; contacts'
language and opted-out channels; who the order workflows' steps tell

- `contact.language` (`nl` or `en`) and `contact.opted_out_channels` (channels it is never sent
  to);
- `notification_template`: per brand, event, language and channel, every saved version kept
  (a message names the version it was rendered from);
- `communication`: every message, rendered once and sent as rendered (queued, sending, sent,
  failed, bounced, or suppressed with the reason), unique per event, channel and address (one
  event never tells one address twice);
- the order workflows' steps that tell someone (`notification_settings.notify`): a quote sent,
  an installation scheduled and done, a shipment sent;
- row-level security: a restricted viewer reads the communications of the orders its scope
  reaches that were not for staff; a customer only those addressed to itself (the new setting
  `chargecars.viewer_partner`, set with the viewer's other settings, tells partners apart).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("queued", "sending", "sent", "failed", "bounced", "suppressed")
SCOPE = "SELECT descendant_id FROM contact_closure WHERE ancestor_id = chargecars_viewer_root()"
READ = (
    "audience <> 'staff' AND EXISTS (SELECT 1 FROM order_reach reach "
    "WHERE reach.ancestor_id = chargecars_viewer_root() AND reach.order_id = communication.order_id) "
    f"AND (chargecars_viewer_partner() OR recipient_contact_id IN ({SCOPE}))"
)
# (workflow name, status, who entering the step tells)
TOLD = [
    ("Installation project", "quoted", ["end_customer"]),
    ("Installation project", "scheduled", ["end_customer", "channel"]),
    ("Installation project", "installed", ["end_customer", "account"]),
    ("Web shop order", "shipped", ["end_customer"]),
]


def upgrade() -> None:
    op.add_column("contact", sa.Column("language", sa.String(length=2), server_default="nl", nullable=False))
    op.add_column(
        "contact",
        sa.Column("opted_out_channels", postgresql.ARRAY(sa.String(length=20)), server_default="{}", nullable=False),
    )
    op.create_check_constraint("language_known", "contact", "language IN ('nl', 'en')")
    op.execute(
        """CREATE FUNCTION chargecars_viewer_partner() RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT coalesce(current_setting('chargecars.viewer_partner', true), '') = 'on' $$"""
    )
    op.create_table(
        "notification_template",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("business_entity_id", sa.UUID(), nullable=False),
        sa.Column("event", sa.String(length=60), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("created_by_account_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("language IN ('nl', 'en')", name=op.f("ck_notification_template_language_known")),
        sa.ForeignKeyConstraint(
            ["business_entity_id"],
            ["business_entity.id"],
            name=op.f("fk_notification_template_business_entity_id_business_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"],
            ["user_account.id"],
            name=op.f("fk_notification_template_created_by_account_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_template")),
        sa.UniqueConstraint(
            "business_entity_id",
            "event",
            "language",
            "channel",
            "version",
            name=op.f("uq_notification_template_business_entity_id_event_language_channel_version"),
        ),
    )
    status = postgresql.ENUM(*STATUSES, name="communication_status", create_type=False)
    status.create(op.get_bind())
    op.create_table(
        "communication",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("dedupe_key", sa.String(length=400), nullable=False),
        sa.Column("outbox_event_id", sa.BigInteger(), nullable=True),
        sa.Column("event", sa.String(length=60), nullable=False),
        sa.Column("business_entity_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("recipient_contact_id", sa.UUID(), nullable=True),
        sa.Column("recipient_address", sa.String(length=254), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("template_id", sa.UUID(), nullable=True),
        sa.Column("template_version", sa.Integer(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("status", status, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("provider_message_id", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "audience IN ('end_customer', 'account', 'channel', 'staff')", name=op.f("ck_communication_audience_known")
        ),
        sa.ForeignKeyConstraint(
            ["outbox_event_id"],
            ["outbox_event.id"],
            name=op.f("fk_communication_outbox_event_id_outbox_event"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["business_entity_id"],
            ["business_entity.id"],
            name=op.f("fk_communication_business_entity_id_business_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_communication_order_id_sales_order"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["recipient_contact_id"],
            ["contact.id"],
            name=op.f("fk_communication_recipient_contact_id_contact"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["notification_template.id"],
            name=op.f("fk_communication_template_id_notification_template"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communication")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_communication_dedupe_key")),
    )
    op.create_index(op.f("ix_communication_order_id"), "communication", ["order_id"], unique=False)
    op.create_index(
        op.f("ix_communication_recipient_contact_id"), "communication", ["recipient_contact_id"], unique=False
    )
    for table in ("notification_template", "communication"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_staff ON {table} FOR ALL TO chargecars_staff USING (true) WITH CHECK (true)")
    op.execute(f"CREATE POLICY communication_read ON communication FOR SELECT TO chargecars_api USING ({READ})")
    for workflow, step, who in TOLD:
        op.execute(
            sa.text(
                "UPDATE status_workflow_step s SET notification_settings = "
                "jsonb_set(s.notification_settings, '{notify}', CAST(:who AS jsonb)) "
                "FROM status_workflow w WHERE w.id = s.workflow_id AND w.entity_type = 'order' "
                "AND w.name LIKE :workflow || '%' AND s.status_name = :step"
            ).bindparams(who=str(who).replace("'", '"'), workflow=workflow, step=step)
        )


def downgrade() -> None:
    op.execute("UPDATE status_workflow_step SET notification_settings = notification_settings - 'notify'")
    op.drop_index(op.f("ix_communication_recipient_contact_id"), table_name="communication")
    op.drop_index(op.f("ix_communication_order_id"), table_name="communication")
    op.drop_table("communication")
    op.execute("DROP TYPE communication_status")
    op.drop_table("notification_template")
    op.execute("DROP FUNCTION chargecars_viewer_partner()")
    op.drop_constraint("language_known", "contact", type_="check")
    op.drop_column("contact", "opted_out_channels")
    op.drop_column("contact", "language")
