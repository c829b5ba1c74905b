"""payments, their allocations and imported bank statements

- `payment` (incoming or a refund; by hand or from a statement entry, once) and
  `payment_allocation` (append-only: part of a payment applied to an invoice or credit note);
- `bank_statement` and `bank_statement_entry`, identified by (account, statement key) and
  (account, entry key): a statement is imported once, an entry once across statements;
- the default payment workflow (docs/workflows.md);
- row-level security: a restricted viewer reads the allocations of the documents of the orders
  its scope reaches (what was paid on its invoices), not the payments or statements themselves.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (status, label, colour, order, type, allowed transitions, SLA hours, milestone, final, approval role)
PAYMENT_STEPS = [
    ("unallocated", "Unallocated", "#6B7280", 10, "normal", ["partially_allocated", "allocated", "on_account"],
     None, False, False, None),
    ("partially_allocated", "Partially allocated", "#F59E0B", 20, "normal", ["allocated", "on_account"],
     None, False, False, "finance"),
    ("on_account", "On account", "#8B5CF6", 30, "normal", ["allocated"], None, False, False, "finance"),
    ("allocated", "Allocated", "#059669", 40, "normal", [], None, True, True, "finance"),
]  # fmt: skip
READ = (
    "EXISTS (SELECT 1 FROM order_reach reach "
    "WHERE reach.ancestor_id = chargecars_viewer_root() AND reach.order_id = payment_allocation.order_id)"
)
TABLES = ("bank_statement", "bank_statement_entry", "payment", "payment_allocation")


def _seed() -> None:
    bind = op.get_bind()
    workflow_id = bind.execute(
        sa.text(
            "INSERT INTO status_workflow (entity_type, name, description, is_default) VALUES ('payment', 'Payment', "
            "'Allocated to invoices (or refunded against credit notes); what is not stays on the account.', true) "
            "RETURNING id"
        )
    ).scalar_one()
    for status, label, color, order, kind, allowed, sla, milestone, final, role in PAYMENT_STEPS:
        bind.execute(
            sa.text(
                "INSERT INTO status_workflow_step (workflow_id, status_name, label, color, step_order, "
                "step_type, allowed_transitions, sla_hours, is_milestone, is_final, requires_approval, "
                "approval_role) VALUES (:workflow, :status, :label, :color, :order, "
                "CAST(:kind AS status_step_type), CAST(:allowed AS varchar(40)[]), :sla, :milestone, :final, "
                ":approval, :role)"
            ),
            {"workflow": workflow_id, "status": status, "label": label, "color": color, "order": order,
             "kind": kind, "allowed": allowed, "sla": sla, "milestone": milestone, "final": final,
             "approval": role is not None, "role": role},
        )  # fmt: skip


def upgrade() -> None:
    direction = postgresql.ENUM("incoming", "outgoing", name="payment_direction", create_type=False)
    method = postgresql.ENUM(
        "bank_transfer", "ideal", "card", "cash", "other", name="payment_method", create_type=False
    )
    direction.create(op.get_bind())
    method.create(op.get_bind())
    op.create_table(
        "bank_statement",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_iban", sa.String(length=34), nullable=False),
        sa.Column("statement_key", sa.String(length=100), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("business_entity_id", sa.UUID(), nullable=True),
        sa.Column("opening_balance", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("closing_balance", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("entries", sa.SmallInteger(), nullable=False),
        sa.Column("imported_by_account_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_entity_id"], ["business_entity.id"],
            name=op.f("fk_bank_statement_business_entity_id_business_entity"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["imported_by_account_id"], ["user_account.id"],
            name=op.f("fk_bank_statement_imported_by_account_id_user_account"), ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_statement")),
        sa.UniqueConstraint("account_iban", "statement_key", name=op.f("uq_bank_statement_account_iban_statement_key")),
    )  # fmt: skip
    op.create_table(
        "bank_statement_entry",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("statement_id", sa.UUID(), nullable=False),
        sa.Column("account_iban", sa.String(length=34), nullable=False),
        sa.Column("entry_key", sa.String(length=100), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("counterparty_name", sa.String(length=200), nullable=True),
        sa.Column("counterparty_iban", sa.String(length=34), nullable=True),
        sa.Column("remittance", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["statement_id"], ["bank_statement.id"], name=op.f("fk_bank_statement_entry_statement_id_bank_statement"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_statement_entry")),
        sa.UniqueConstraint("account_iban", "entry_key", name=op.f("uq_bank_statement_entry_account_iban_entry_key")),
    )  # fmt: skip
    op.create_index(op.f("ix_bank_statement_entry_statement_id"), "bank_statement_entry", ["statement_id"])
    op.create_table(
        "payment",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("business_entity_id", sa.UUID(), nullable=False),
        sa.Column("direction", direction, nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default=sa.text("'EUR'"), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("method", method, nullable=False),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("payer_name", sa.String(length=200), nullable=True),
        sa.Column("payer_iban", sa.String(length=34), nullable=True),
        sa.Column("contact_id", sa.UUID(), nullable=True),
        sa.Column("statement_entry_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_by_account_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_amount_positive")),
        sa.ForeignKeyConstraint(
            ["business_entity_id"], ["business_entity.id"], name=op.f("fk_payment_business_entity_id_business_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_payment_contact_id_contact"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"], ["user_account.id"], name=op.f("fk_payment_created_by_account_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["statement_entry_id"], ["bank_statement_entry.id"],
            name=op.f("fk_payment_statement_entry_id_bank_statement_entry"), ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint("statement_entry_id", name=op.f("uq_payment_statement_entry_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_payment_contact_id"), "payment", ["contact_id"])
    op.create_index("ix_payment_paid_on", "payment", ["business_entity_id", "paid_on"])
    op.create_index("ix_payment_status", "payment", ["status"])
    op.create_table(
        "payment_allocation",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=False),
        sa.Column("invoice_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("allocated_on", sa.Date(), nullable=False),
        sa.Column("created_by_account_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_allocation_amount_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"], ["user_account.id"],
            name=op.f("fk_payment_allocation_created_by_account_id_user_account"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_payment_allocation_invoice_id_invoice"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_payment_allocation_order_id_sales_order"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_payment_allocation_payment_id_payment"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_allocation")),
    )  # fmt: skip
    op.create_index(op.f("ix_payment_allocation_payment_id"), "payment_allocation", ["payment_id"])
    op.create_index(op.f("ix_payment_allocation_invoice_id"), "payment_allocation", ["invoice_id"])
    op.execute(
        "CREATE TRIGGER payment_allocation_append_only BEFORE UPDATE OR DELETE ON payment_allocation "
        "FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only()"
    )
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_staff ON {table} FOR ALL TO chargecars_staff USING (true) WITH CHECK (true)")
    # the payments and statements themselves: staff only (no policy for chargecars_api: no rows)
    op.execute(
        f"CREATE POLICY payment_allocation_read ON payment_allocation FOR SELECT TO chargecars_api USING ({READ})"
    )
    _seed()


def downgrade() -> None:
    op.execute("DELETE FROM status_workflow WHERE entity_type = 'payment'")
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP TYPE payment_method")
    op.execute("DROP TYPE payment_direction")
