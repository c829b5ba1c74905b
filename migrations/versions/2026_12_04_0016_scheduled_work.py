"""scheduled work: internal tasks, stored overdue marks, hold escalation, the runs of schedules

- `internal_task` (title, the entity it is about, assigned to an account or a role, due date,
  where it came from; one per escalation key) with its workflow: open → in progress → done, or
  cancelled;
- `entity_current_status.overdue_since`: the SLA monitor's stored mark (a status change clears
  it);
- `order_hold.escalated_at`: a hold's escalation date was reached and escalated, once;
- `schedule_run`: each run of a scheduled job, its duration and outcome;
- row-level security: tasks and runs are staff's only.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (status, label, colour, order, type, allowed transitions, final)
TASK_STEPS = [
    ("open", "Open", "#2563EB", 10, "normal", ["in_progress", "done", "cancelled"], False),
    ("in_progress", "In progress", "#F59E0B", 20, "normal", ["done", "open", "cancelled"], False),
    ("done", "Done", "#059669", 30, "normal", [], True),
    ("cancelled", "Cancelled", "#6B7280", 90, "exit", [], True),
]
TABLES = ("internal_task", "schedule_run")


def upgrade() -> None:
    op.create_table(
        "internal_task",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("entity_type", sa.String(length=40), nullable=True),
        sa.Column("entity_id", sa.UUID(), nullable=True),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column("assignee_account_id", sa.UUID(), nullable=True),
        sa.Column("assignee_role", sa.String(length=20), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("created_by_account_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "assignee_account_id IS NOT NULL OR assignee_role IS NOT NULL", name=op.f("ck_internal_task_assigned")
        ),
        sa.CheckConstraint(
            "source IN ('manual', 'sla_breach', 'hold_escalation')", name=op.f("ck_internal_task_source_known")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_internal_task_order_id_sales_order"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["assignee_account_id"],
            ["user_account.id"],
            name=op.f("fk_internal_task_assignee_account_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"],
            ["user_account.id"],
            name=op.f("fk_internal_task_created_by_account_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_internal_task")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_internal_task_dedupe_key")),
    )
    op.create_index("ix_internal_task_assignee", "internal_task", ["assignee_account_id", "assignee_role", "status"])
    op.create_table(
        "schedule_run",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_run")),
    )
    op.create_index("ix_schedule_run_name_started", "schedule_run", ["name", "started_at"])
    op.add_column("entity_current_status", sa.Column("overdue_since", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_entity_current_status_overdue",
        "entity_current_status",
        ["entity_type", "overdue_since"],
        postgresql_where=sa.text("overdue_since IS NOT NULL"),
    )
    op.add_column("order_hold", sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_staff ON {table} FOR ALL TO chargecars_staff USING (true) WITH CHECK (true)")
    bind = op.get_bind()
    workflow_id = bind.execute(
        sa.text(
            "INSERT INTO status_workflow (entity_type, name, description, is_default) VALUES ('internal_task', "
            "'Internal task', 'Work for staff: escalations of overdue work and tasks made by hand.', true) "
            "RETURNING id"
        )
    ).scalar_one()
    for status, label, color, order, kind, allowed, final in TASK_STEPS:
        bind.execute(
            sa.text(
                "INSERT INTO status_workflow_step (workflow_id, status_name, label, color, step_order, step_type, "
                "allowed_transitions, is_final) VALUES (:workflow, :status, :label, :color, :order, "
                "CAST(:kind AS status_step_type), CAST(:allowed AS varchar(40)[]), :final)"
            ),
            {"workflow": workflow_id, "status": status, "label": label, "color": color, "order": order,
             "kind": kind, "allowed": allowed, "final": final},
        )  # fmt: skip


def downgrade() -> None:
    op.execute("DELETE FROM status_workflow WHERE entity_type = 'internal_task'")
    op.drop_column("order_hold", "escalated_at")
    op.drop_index("ix_entity_current_status_overdue", table_name="entity_current_status")
    op.drop_column("entity_current_status", "overdue_since")
    op.drop_index("ix_schedule_run_name_started", table_name="schedule_run")
    op.drop_table("schedule_run")
    op.drop_index("ix_internal_task_assignee", table_name="internal_task")
    op.drop_table("internal_task")
