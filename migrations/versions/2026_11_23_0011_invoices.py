"""invoices and credit notes: the documents, their guards, workflows and visibility

- contacts get a postal address, a VAT number and payment terms (what an invoice copies of its
  buyer); brands get what an invoice says of its seller (seeded below, placeholders per brand);
- `invoice` (kind invoice or credit note) and `invoice_line`: an issued document never changes
  but for its status, and is never deleted (triggers, also for the table owner);
- `requires_billing` on workflow steps: the installation flow's `invoiced` and the shops'
  `shipped` may be entered only when every line of the order is billed;
- the default workflows of invoices and credit notes (docs/workflows.md);
- row-level security: a restricted viewer reads the documents of the orders its scope reaches,
  and their status rows; it writes none.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTACT_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("street", sa.String(length=200), nullable=True),
    sa.Column("house_number", sa.String(length=20), nullable=True),
    sa.Column("postal_code", sa.String(length=10), nullable=True),
    sa.Column("city", sa.String(length=100), nullable=True),
    sa.Column("country_code", sa.String(length=2), nullable=True),
    sa.Column("vat_number", sa.String(length=20), nullable=True),
    sa.Column("payment_terms_days", sa.SmallInteger(), nullable=True),
]
SELLER_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("legal_name", sa.String(length=200), nullable=True),
    sa.Column("street", sa.String(length=200), nullable=True),
    sa.Column("house_number", sa.String(length=20), nullable=True),
    sa.Column("postal_code", sa.String(length=10), nullable=True),
    sa.Column("city", sa.String(length=100), nullable=True),
    sa.Column("country_code", sa.String(length=2), nullable=True),
    sa.Column("vat_number", sa.String(length=20), nullable=True),
    sa.Column("chamber_of_commerce_number", sa.String(length=20), nullable=True),
    sa.Column("iban", sa.String(length=34), nullable=True),
    sa.Column("email", sa.String(length=254), nullable=True),
]
# code: legal name, street, number, postal code, city, VAT number, Chamber of Commerce, IBAN, e-mail
SELLERS = {
    "CC": ("ChargeCars B.V.", "Laadpaalweg", "12", "3542 AB", "Utrecht", "NL861234567B01", "81234567",
           "NL91ABNA0417164300", "facturen@chargecars.nl"),
    "LT": ("LaderThuis B.V.", "Stekkerstraat", "4", "5611 AZ", "Eindhoven", "NL862345678B01", "82345678",
           "NL20INGB0001234567", "facturen@laderthuis.nl"),
    "MKT": ("MeterKastThuis B.V.", "Groepenkast", "7", "1014 BA", "Amsterdam", "NL863456789B01", "83456789",
            "NL39RABO0300065264", "facturen@meterkastthuis.nl"),
    "ZS": ("Zaptec Shop Nederland B.V.", "Laadpaalweg", "12", "3542 AB", "Utrecht", "NL864567890B01", "84567890",
           "NL02ABNA0123456789", "shop@zaptecshop.nl"),
    "RS": ("Ratio Shop Nederland B.V.", "Laadpaalweg", "12", "3542 AB", "Utrecht", "NL865678901B01", "85678901",
           "NL56INGB0007654321", "shop@ratioshop.nl"),
}  # fmt: skip

# (status, label, colour, order, type, allowed transitions, SLA hours, milestone, final, approval role)
INVOICE_STEPS = [
    ("issued", "Issued", "#0EA5E9", 10, "normal", ["partially_paid", "paid", "credited"], None, True, False, None),
    ("partially_paid", "Partially paid", "#F59E0B", 20, "normal", ["paid", "credited"], None, False, False, "finance"),
    ("paid", "Paid", "#059669", 30, "normal", [], None, True, True, "finance"),
    ("credited", "Credited", "#DC2626", 90, "exit", [], None, False, True, "finance"),
]
CREDIT_NOTE_STEPS = [
    ("issued", "Issued", "#0EA5E9", 10, "normal", ["settled"], None, True, False, None),
    ("settled", "Settled", "#059669", 20, "normal", [], None, True, True, "finance"),
]
WORKFLOWS = [
    ("invoice", "Invoice", "Issued with its number; paid in parts or at once, or credited in full.", INVOICE_STEPS),
    (
        "credit_note",
        "Credit note",
        "Issued against an invoice; settled when set off against what is owed or refunded.",
        CREDIT_NOTE_STEPS,
    ),
]

# an issued document keeps everything but its status; the lines keep everything
GUARD_FUNCTION = """
CREATE FUNCTION refuse_change_issued_document() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'status' - 'updated_at') = (to_jsonb(OLD) - 'status' - 'updated_at') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% % is an issued document: % refused (correct it with a credit note)',
        TG_TABLE_NAME, OLD.number, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def reached(order_id: str) -> str:
    return (
        f"EXISTS (SELECT 1 FROM order_reach reach "
        f"WHERE reach.ancestor_id = chargecars_viewer_root() AND reach.order_id = {order_id})"
    )


def _document_reached(table: str) -> str:
    """The status row's document (an invoice or a credit note) bills an order the scope reaches."""
    return (
        f"EXISTS (SELECT 1 FROM invoice document JOIN order_reach reach ON reach.order_id = document.order_id "
        f"WHERE document.id = {table}.entity_id AND reach.ancestor_id = chargecars_viewer_root())"
    )


def status_rule(table: str, with_documents: bool) -> str:
    """The read rule of the status tables (0009's, and the documents' entity types with it)."""
    documents = (
        f"WHEN 'invoice' THEN {_document_reached(table)} WHEN 'credit_note' THEN {_document_reached(table)} "
        if with_documents
        else ""
    )
    return (
        f"CASE {table}.entity_type WHEN 'order' THEN {reached(f'{table}.entity_id')} "
        f"WHEN 'partner_commission' THEN chargecars_sees_commission({table}.entity_id) "
        f"{documents}ELSE false END"
    )


def _status_policies(with_documents: bool) -> None:
    for table in ("status_transition", "entity_current_status"):
        op.execute(f"ALTER POLICY {table}_read ON {table} USING ({status_rule(table, with_documents)})")


def _seed() -> None:
    bind = op.get_bind()
    for code, (legal, street, number, postal, city, vat, coc, iban, email) in SELLERS.items():
        bind.execute(
            sa.text(
                "UPDATE business_entity SET legal_name = :legal, street = :street, house_number = :number, "
                "postal_code = :postal, city = :city, country_code = 'NL', vat_number = :vat, "
                "chamber_of_commerce_number = :coc, iban = :iban, email = :email WHERE code = :code"
            ),
            {"legal": legal, "street": street, "number": number, "postal": postal, "city": city, "vat": vat,
             "coc": coc, "iban": iban, "email": email, "code": code},
        )  # fmt: skip
    bind.execute(
        sa.text(
            "UPDATE status_workflow_step s SET requires_billing = true FROM status_workflow w "
            "WHERE w.id = s.workflow_id AND w.entity_type = 'order' "
            "AND ((w.business_entity_id IS NULL AND s.status_name = 'invoiced') "
            "OR (w.business_entity_id IS NOT NULL AND s.status_name = 'shipped'))"
        )
    )
    for entity_type, name, description, steps in WORKFLOWS:
        workflow_id = bind.execute(
            sa.text(
                "INSERT INTO status_workflow (entity_type, name, description, is_default) "
                "VALUES (:type, :name, :description, true) RETURNING id"
            ),
            {"type": entity_type, "name": name, "description": description},
        ).scalar_one()
        for status, label, color, order, kind, allowed, sla, milestone, final, role in steps:
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
    for column in CONTACT_COLUMNS:
        op.add_column("contact", column)
    op.create_check_constraint(
        "payment_terms_range", "contact", "payment_terms_days IS NULL OR payment_terms_days BETWEEN 0 AND 365"
    )
    for column in SELLER_COLUMNS:
        op.add_column("business_entity", column)
    op.add_column(
        "status_workflow_step",
        sa.Column("requires_billing", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    kind = postgresql.ENUM("invoice", "credit_note", name="invoice_kind", create_type=False)
    kind.create(op.get_bind())
    op.create_table(
        "invoice",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("kind", kind, nullable=False),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("business_entity_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("account_contact_id", sa.UUID(), nullable=False),
        sa.Column("credits_invoice_id", sa.UUID(), nullable=True),
        sa.Column("seller", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("buyer", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default=sa.text("'EUR'"), nullable=False),
        sa.Column("net_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("vat_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("gross_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_by_account_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(kind = 'credit_note') = (credits_invoice_id IS NOT NULL)", name=op.f("ck_invoice_credit_note_references")
        ),
        sa.CheckConstraint(
            "(kind = 'invoice' AND gross_amount >= 0) OR (kind = 'credit_note' AND gross_amount <= 0)",
            name=op.f("ck_invoice_sign_of_kind"),
        ),
        sa.CheckConstraint("net_amount + vat_amount = gross_amount", name=op.f("ck_invoice_gross_is_net_plus_vat")),
        sa.CheckConstraint("due_date >= issue_date", name=op.f("ck_invoice_due_after_issue")),
        sa.ForeignKeyConstraint(
            ["account_contact_id"], ["contact.id"], name=op.f("fk_invoice_account_contact_id_contact"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["business_entity_id"], ["business_entity.id"],
            name=op.f("fk_invoice_business_entity_id_business_entity"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"], ["user_account.id"],
            name=op.f("fk_invoice_created_by_account_id_user_account"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["credits_invoice_id"], ["invoice.id"], name=op.f("fk_invoice_credits_invoice_id_invoice"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_invoice_order_id_sales_order"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("number", name=op.f("uq_invoice_number")),
    )  # fmt: skip
    op.create_index("ix_invoice_brand_issue_date", "invoice", ["business_entity_id", "issue_date"])
    op.create_index("ix_invoice_status_due", "invoice", ["status", "due_date"])
    op.create_index(op.f("ix_invoice_order_id"), "invoice", ["order_id"])
    op.create_index(op.f("ix_invoice_account_contact_id"), "invoice", ["account_contact_id"])
    op.create_index(op.f("ix_invoice_credits_invoice_id"), "invoice", ["credits_invoice_id"])
    op.create_table(
        "invoice_line",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("invoice_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("line_item_id", sa.UUID(), nullable=False),
        sa.Column("billing_round", sa.SmallInteger(), nullable=True),
        sa.Column("credits_line_id", sa.UUID(), nullable=True),
        sa.Column("article_id", sa.UUID(), nullable=True),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("discount_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("vat_rate", sa.Numeric(precision=4, scale=2), nullable=False),
        sa.Column("net_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("is_commissionable", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "(billing_round IS NULL) = (credits_line_id IS NOT NULL)", name=op.f("ck_invoice_line_billed_or_credit")
        ),
        sa.CheckConstraint(
            "billing_round IS NULL OR billing_round >= 1", name=op.f("ck_invoice_line_billing_round_positive")
        ),
        sa.ForeignKeyConstraint(
            ["article_id"], ["article.id"], name=op.f("fk_invoice_line_article_id_article"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["credits_line_id"], ["invoice_line.id"], name=op.f("fk_invoice_line_credits_line_id_invoice_line"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_invoice_line_invoice_id_invoice"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["line_item_id"], ["line_item.id"], name=op.f("fk_invoice_line_line_item_id_line_item"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_invoice_line_order_id_sales_order"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_line")),
        sa.UniqueConstraint("credits_line_id", name=op.f("uq_invoice_line_credits_line_id")),
        sa.UniqueConstraint("invoice_id", "position", name=op.f("uq_invoice_line_invoice_id_position")),
    )  # fmt: skip
    op.create_index(op.f("ix_invoice_line_order_id"), "invoice_line", ["order_id"])
    op.create_index(op.f("ix_invoice_line_line_item_id"), "invoice_line", ["line_item_id"])
    op.create_index(
        "uq_invoice_line_billing_round",
        "invoice_line",
        ["line_item_id", "billing_round"],
        unique=True,
        postgresql_where=sa.text("billing_round IS NOT NULL"),
    )
    op.execute(GUARD_FUNCTION)
    op.execute(
        "CREATE TRIGGER invoice_issued BEFORE UPDATE OR DELETE ON invoice "
        "FOR EACH ROW EXECUTE FUNCTION refuse_change_issued_document()"
    )
    op.execute(
        "CREATE TRIGGER invoice_line_append_only BEFORE UPDATE OR DELETE ON invoice_line "
        "FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only()"
    )
    for table in ("invoice", "invoice_line"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_read ON {table} FOR SELECT TO chargecars_api USING ({reached(table + '.order_id')})"
        )
        op.execute(f"CREATE POLICY {table}_staff ON {table} FOR ALL TO chargecars_staff USING (true) WITH CHECK (true)")
    _status_policies(with_documents=True)
    _seed()


def downgrade() -> None:
    op.execute("DELETE FROM entity_current_status WHERE entity_type IN ('invoice', 'credit_note')")
    op.execute("DELETE FROM status_workflow WHERE entity_type IN ('invoice', 'credit_note')")
    _status_policies(with_documents=False)
    op.execute("DROP TABLE invoice_line")
    op.execute("DROP TABLE invoice")
    op.execute("DROP FUNCTION refuse_change_issued_document()")
    op.execute("DROP TYPE invoice_kind")
    op.drop_column("status_workflow_step", "requires_billing")
    for column in reversed(SELLER_COLUMNS):
        op.drop_column("business_entity", column.name)
    op.drop_constraint("payment_terms_range", "contact", type_="check")
    for column in reversed(CONTACT_COLUMNS):
        op.drop_column("contact", column.name)
