"""partner commissions, and what a workflow step means to orders: `creates_commissions`, `locks_lines`

Flags the `completed` step of every order workflow as commission-creating and the installation
flow's `invoiced` step as locking the lines (before this, the lines locked on the status name).
Seeds the default partner commission workflow (docs/workflows.md). Downgrading after
commissions have had statuses fails on purpose: their transitions are append-only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (status, label, colour, order, type, allowed transitions, SLA hours, milestone, final, approval role)
COMMISSION_STEPS = [
    ("pending", "Pending", "#6B7280", 10, "normal", ["approved", "cancelled"], 720, False, False, None),
    ("approved", "Approved", "#3B82F6", 20, "normal", ["paid", "cancelled"], 720, True, False, "finance"),
    ("paid", "Paid", "#059669", 30, "normal", [], None, True, True, "finance"),
    ("cancelled", "Cancelled", "#DC2626", 90, "exit", [], None, False, True, None),
]


def _seed() -> None:
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE status_workflow_step s SET creates_commissions = true FROM status_workflow w "
            "WHERE w.id = s.workflow_id AND w.entity_type = 'order' AND s.status_name = 'completed'"
        )
    )
    bind.execute(
        sa.text(
            "UPDATE status_workflow_step s SET locks_lines = true FROM status_workflow w "
            "WHERE w.id = s.workflow_id AND w.entity_type = 'order' AND s.status_name = 'invoiced'"
        )
    )
    workflow_id = bind.execute(
        sa.text(
            "INSERT INTO status_workflow (entity_type, name, description, is_default) "
            "VALUES ('partner_commission', 'Partner commission', "
            "'Pending while the order can still change; approved (frozen) and paid by finance.', true) RETURNING id"
        )
    ).scalar_one()
    for status, label, color, order, kind, allowed, sla, milestone, final, role in COMMISSION_STEPS:
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
    op.add_column(
        "status_workflow_step",
        sa.Column("creates_commissions", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "status_workflow_step", sa.Column("locks_lines", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    op.create_table(
        "partner_commission",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("business_entity_id", sa.UUID(), nullable=False),
        sa.Column("beneficiary_contact_id", sa.UUID(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("rate", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("base_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("level >= 1", name=op.f("ck_partner_commission_level_positive")),
        sa.CheckConstraint("rate > 0 AND rate <= 1", name=op.f("ck_partner_commission_rate_range")),
        sa.ForeignKeyConstraint(
            ["beneficiary_contact_id"],
            ["contact.id"],
            name=op.f("fk_partner_commission_beneficiary_contact_id_contact"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["business_entity_id"],
            ["business_entity.id"],
            name=op.f("fk_partner_commission_business_entity_id_business_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_order.id"],
            name=op.f("fk_partner_commission_order_id_sales_order"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_commission")),
        sa.UniqueConstraint("order_id", "level", name=op.f("uq_partner_commission_order_id_level")),
    )
    op.create_index(
        "ix_partner_commission_beneficiary",
        "partner_commission",
        ["beneficiary_contact_id", "created_at"],
        unique=False,
    )
    op.create_index("ix_partner_commission_created_at", "partner_commission", ["created_at"], unique=False)
    _seed()


def downgrade() -> None:
    op.execute("DELETE FROM status_workflow WHERE entity_type = 'partner_commission'")
    op.drop_index("ix_partner_commission_created_at", table_name="partner_commission")
    op.drop_index("ix_partner_commission_beneficiary", table_name="partner_commission")
    op.drop_table("partner_commission")
    op.drop_column("status_workflow_step", "locks_lines")
    op.drop_column("status_workflow_step", "creates_commissions")
