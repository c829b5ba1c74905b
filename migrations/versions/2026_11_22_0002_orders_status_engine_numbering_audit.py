"""orders, the status engine, number series, order holds and the audit log

Seeds the brands' number series (docs/design.md, "Numbers") for the current year and the order workflows described in
docs/workflows.md. status_transition and audit_log are append-only: a trigger refuses updates
and deletes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERIES = {
    "CC": ("order", "quote", "invoice", "work_order", "support_ticket"),
    "LT": ("order", "quote", "invoice", "work_order"),
    "MKT": ("order", "quote", "invoice", "work_order"),
    "ZS": ("order", "quote", "invoice"),
    "RS": ("order", "quote", "invoice"),
}
PREFIX = {
    "order": "{code}",
    "quote": "{code}-Q",
    "invoice": "{code}-F",
    "work_order": "{code}-WO",
    "support_ticket": "SUP",
}

# (status, label, colour, order, type, allowed transitions, SLA hours, milestone, final, approval role)
INSTALLATION_STEPS = [
    ("intake", "Intake", "#6B7280", 10, "normal", ["quoted", "cancelled"], 48, False, False, None),
    ("quoted", "Quote sent", "#3B82F6", 20, "normal", ["accepted", "intake", "cancelled"], 336, False, False, None),
    (
        "accepted",
        "Quote accepted",
        "#8B5CF6",
        30,
        "normal",
        ["scheduled", "quoted", "cancelled"],
        72,
        True,
        False,
        None,
    ),
    (
        "scheduled",
        "Installation scheduled",
        "#F59E0B",
        40,
        "normal",
        ["installing", "accepted", "cancelled"],
        336,
        False,
        False,
        None,
    ),
    ("installing", "Installing", "#F97316", 50, "normal", ["installed", "scheduled"], 24, False, False, None),
    ("installed", "Installed", "#10B981", 60, "normal", ["invoiced", "installing"], 48, True, False, None),
    ("invoiced", "Invoiced", "#0EA5E9", 70, "normal", ["completed"], 720, True, False, None),
    ("completed", "Completed", "#059669", 80, "normal", [], None, True, True, "finance"),
    ("cancelled", "Cancelled", "#DC2626", 90, "exit", [], None, False, True, None),
    ("on_hold", "On hold", "#A855F7", 95, "hold", [], None, False, False, None),
]
SHOP_STEPS = [
    ("new", "New", "#6B7280", 10, "normal", ["paid", "cancelled"], 24, False, False, None),
    ("paid", "Paid", "#3B82F6", 20, "normal", ["shipped", "cancelled"], 48, True, False, None),
    ("shipped", "Shipped", "#F59E0B", 30, "normal", ["delivered"], 120, True, False, None),
    ("delivered", "Delivered", "#10B981", 40, "normal", ["completed", "shipped"], 336, False, False, None),
    ("completed", "Completed", "#059669", 50, "normal", [], None, True, True, None),
    ("cancelled", "Cancelled", "#DC2626", 90, "exit", [], None, False, True, "staff"),
    ("on_hold", "On hold", "#A855F7", 95, "hold", [], None, False, False, None),
]

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION refuse_change_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _append_only(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only()"
    )


def _seed() -> None:
    bind = op.get_bind()
    brands: dict[str, object] = dict(bind.execute(sa.text("SELECT code, id FROM business_entity")).all())
    for code, documents in SERIES.items():
        for document in documents:
            bind.execute(
                sa.text(
                    "INSERT INTO number_sequence (business_entity_id, document_type, year, prefix, padding) "
                    "VALUES (:brand, :document, EXTRACT(YEAR FROM now() AT TIME ZONE 'Europe/Amsterdam'), :prefix, 5)"
                ),
                {"brand": brands[code], "document": document, "prefix": PREFIX[document].format(code=code)},
            )
    workflows = [
        (
            "Installation project",
            "Intake to completion of an installation (CC, LT, MKT).",
            None,
            True,
            INSTALLATION_STEPS,
        ),
        ("Web shop order (Zaptec Shop)", "Payment, shipping and delivery.", brands["ZS"], False, SHOP_STEPS),
        ("Web shop order (Ratio Shop)", "Payment, shipping and delivery.", brands["RS"], False, SHOP_STEPS),
    ]
    for name, description, brand, is_default, steps in workflows:
        workflow_id = bind.execute(
            sa.text(
                "INSERT INTO status_workflow (entity_type, business_entity_id, name, description, is_default) "
                "VALUES ('order', :brand, :name, :description, :is_default) RETURNING id"
            ),
            {"brand": brand, "name": name, "description": description, "is_default": is_default},
        ).scalar_one()
        for status, label, color, order, kind, allowed, sla, milestone, final, role in steps:
            bind.execute(
                sa.text(
                    "INSERT INTO status_workflow_step (workflow_id, status_name, label, color, step_order, step_type, "
                    "allowed_transitions, sla_hours, is_milestone, is_final, requires_approval, approval_role) "
                    "VALUES (:workflow, :status, :label, :color, :order, CAST(:kind AS status_step_type), "
                    "CAST(:allowed AS varchar(40)[]), :sla, :milestone, :final, :approval, :role)"
                ),
                {
                    "workflow": workflow_id,
                    "status": status,
                    "label": label,
                    "color": color,
                    "order": order,
                    "kind": kind,
                    "allowed": allowed,
                    "sla": sla,
                    "milestone": milestone,
                    "final": final,
                    "approval": role is not None,
                    "role": role,
                },
            )


def upgrade() -> None:
    op.create_table(
        "number_sequence",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("business_entity_id", sa.UUID(), nullable=False),
        sa.Column("document_type", sa.String(length=30), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("padding", sa.SmallInteger(), server_default=sa.text("5"), nullable=False),
        sa.Column("last_value", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_entity_id"],
            ["business_entity.id"],
            name=op.f("fk_number_sequence_business_entity_id_business_entity"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_number_sequence")),
        sa.UniqueConstraint(
            "business_entity_id",
            "document_type",
            "year",
            name=op.f("uq_number_sequence_business_entity_id_document_type_year"),
        ),
    )
    op.create_table(
        "status_workflow",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("business_entity_id", sa.UUID(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "conditions", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_entity_id"],
            ["business_entity.id"],
            name=op.f("fk_status_workflow_business_entity_id_business_entity"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_workflow")),
    )
    op.create_index(
        "uq_status_workflow_brand",
        "status_workflow",
        ["entity_type", "business_entity_id"],
        unique=True,
        postgresql_where=sa.text("is_active AND business_entity_id IS NOT NULL"),
    )
    op.create_index(
        "uq_status_workflow_default",
        "status_workflow",
        ["entity_type"],
        unique=True,
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        "status_workflow_step",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("workflow_id", sa.UUID(), nullable=False),
        sa.Column("status_name", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=False),
        sa.Column("step_order", sa.SmallInteger(), nullable=False),
        sa.Column(
            "step_type",
            sa.Enum("normal", "hold", "exit", name="status_step_type"),
            server_default="normal",
            nullable=False,
        ),
        sa.Column(
            "allowed_transitions",
            postgresql.ARRAY(sa.String(length=40)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("sla_hours", sa.Integer(), nullable=True),
        sa.Column("requires_approval", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("approval_role", sa.String(length=20), nullable=True),
        sa.Column("is_milestone", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_final", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "auto_transition_conditions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "notification_settings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["status_workflow.id"],
            name=op.f("fk_status_workflow_step_workflow_id_status_workflow"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_workflow_step")),
        sa.UniqueConstraint("workflow_id", "status_name", name=op.f("uq_status_workflow_step_workflow_id_status_name")),
        sa.UniqueConstraint("workflow_id", "step_order", name=op.f("uq_status_workflow_step_workflow_id_step_order")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=True),
        sa.Column("system", sa.String(length=50), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["user_account.id"], name=op.f("fk_audit_log_account_id_user_account"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity_type", "entity_id", "occurred_at"], unique=False)
    op.create_table(
        "sales_order",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("business_entity_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("account_contact_id", sa.UUID(), nullable=False),
        sa.Column("end_customer_contact_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by_account_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_contact_id"],
            ["contact.id"],
            name=op.f("fk_sales_order_account_contact_id_contact"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["business_entity_id"],
            ["business_entity.id"],
            name=op.f("fk_sales_order_business_entity_id_business_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"],
            ["user_account.id"],
            name=op.f("fk_sales_order_created_by_account_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["end_customer_contact_id"],
            ["contact.id"],
            name=op.f("fk_sales_order_end_customer_contact_id_contact"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_order")),
        sa.UniqueConstraint("number", name=op.f("uq_sales_order_number")),
    )
    op.create_index(op.f("ix_sales_order_account_contact_id"), "sales_order", ["account_contact_id"], unique=False)
    op.create_index(op.f("ix_sales_order_business_entity_id"), "sales_order", ["business_entity_id"], unique=False)
    op.create_index("ix_sales_order_created_at", "sales_order", ["created_at"], unique=False)
    op.create_index(
        op.f("ix_sales_order_end_customer_contact_id"), "sales_order", ["end_customer_contact_id"], unique=False
    )
    op.create_index("ix_sales_order_status", "sales_order", ["business_entity_id", "status"], unique=False)
    op.create_table(
        "status_transition",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("workflow_id", sa.UUID(), nullable=False),
        sa.Column("from_status", sa.String(length=40), nullable=True),
        sa.Column("to_status", sa.String(length=40), nullable=False),
        sa.Column(
            "movement",
            sa.Enum(
                "initial", "forward", "skip", "backward", "restart", "hold", "resume", "exit", name="status_movement"
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "business_context",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("triggered_by_account_id", sa.UUID(), nullable=True),
        sa.Column("triggered_by_system", sa.String(length=50), nullable=True),
        sa.Column("sla_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_milestone", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["triggered_by_account_id"],
            ["user_account.id"],
            name=op.f("fk_status_transition_triggered_by_account_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["status_workflow.id"],
            name=op.f("fk_status_transition_workflow_id_status_workflow"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_transition")),
    )
    op.create_index(
        "ix_status_transition_entity", "status_transition", ["entity_type", "entity_id", "created_at"], unique=False
    )
    op.create_table(
        "entity_current_status",
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("workflow_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sla_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_transition_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["last_transition_id"],
            ["status_transition.id"],
            name=op.f("fk_entity_current_status_last_transition_id_status_transition"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["status_workflow.id"],
            name=op.f("fk_entity_current_status_workflow_id_status_workflow"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("entity_type", "entity_id", name=op.f("pk_entity_current_status")),
    )
    op.create_index(
        "ix_entity_current_status_sla", "entity_current_status", ["entity_type", "sla_deadline"], unique=False
    )
    op.create_index("ix_entity_current_status_status", "entity_current_status", ["entity_type", "status"], unique=False)
    op.create_table(
        "order_channel",
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("contact_id", sa.UUID(), nullable=False),
        sa.CheckConstraint("position >= 1", name=op.f("ck_order_channel_position_positive")),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_order_channel_contact_id_contact"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_order_channel_order_id_sales_order"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("order_id", "position", name=op.f("pk_order_channel")),
        sa.UniqueConstraint("order_id", "contact_id", name=op.f("uq_order_channel_order_id_contact_id")),
    )
    op.create_index(op.f("ix_order_channel_contact_id"), "order_channel", ["contact_id"], unique=False)
    op.create_table(
        "order_hold",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column(
            "reason_category",
            sa.Enum(
                "customer_request",
                "awaiting_parts",
                "awaiting_permit",
                "awaiting_payment",
                "technical_issue",
                "other",
                name="hold_reason",
            ),
            nullable=False,
        ),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("estimated_resume_date", sa.Date(), nullable=True),
        sa.Column("escalation_date", sa.Date(), nullable=True),
        sa.Column("notify_customer", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("notify_partner", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("status_before", sa.String(length=40), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("placed_by_account_id", sa.UUID(), nullable=True),
        sa.Column("resumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resumed_by_account_id", sa.UUID(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_order_hold_order_id_sales_order"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["placed_by_account_id"],
            ["user_account.id"],
            name=op.f("fk_order_hold_placed_by_account_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resumed_by_account_id"],
            ["user_account.id"],
            name=op.f("fk_order_hold_resumed_by_account_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_hold")),
    )
    op.create_index(op.f("ix_order_hold_order_id"), "order_hold", ["order_id"], unique=False)
    op.create_index(
        "uq_order_hold_active", "order_hold", ["order_id"], unique=True, postgresql_where=sa.text("resumed_at IS NULL")
    )
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute(_append_only("status_transition"))
    op.execute(_append_only("audit_log"))
    _seed()


def downgrade() -> None:
    op.drop_index("uq_order_hold_active", table_name="order_hold", postgresql_where=sa.text("resumed_at IS NULL"))
    op.drop_index(op.f("ix_order_hold_order_id"), table_name="order_hold")
    op.drop_table("order_hold")
    op.drop_index(op.f("ix_order_channel_contact_id"), table_name="order_channel")
    op.drop_table("order_channel")
    op.drop_index("ix_entity_current_status_status", table_name="entity_current_status")
    op.drop_index("ix_entity_current_status_sla", table_name="entity_current_status")
    op.drop_table("entity_current_status")
    op.drop_index("ix_status_transition_entity", table_name="status_transition")
    op.drop_table("status_transition")
    op.drop_index("ix_sales_order_status", table_name="sales_order")
    op.drop_index(op.f("ix_sales_order_end_customer_contact_id"), table_name="sales_order")
    op.drop_index("ix_sales_order_created_at", table_name="sales_order")
    op.drop_index(op.f("ix_sales_order_business_entity_id"), table_name="sales_order")
    op.drop_index(op.f("ix_sales_order_account_contact_id"), table_name="sales_order")
    op.drop_table("sales_order")
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("status_workflow_step")
    op.drop_index("uq_status_workflow_default", table_name="status_workflow", postgresql_where=sa.text("is_default"))
    op.drop_index(
        "uq_status_workflow_brand",
        table_name="status_workflow",
        postgresql_where=sa.text("is_active AND business_entity_id IS NOT NULL"),
    )
    op.drop_table("status_workflow")
    op.drop_table("number_sequence")
    op.execute("DROP FUNCTION refuse_change_append_only()")
    for enum_name in ("hold_reason", "status_movement", "status_step_type"):
        op.execute(f"DROP TYPE {enum_name}")
