"""articles and order lines (money as NUMERIC; VAT rates 21, 9 and 0 %)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "article",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("business_entity_id", sa.UUID(), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=20), server_default="piece", nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("vat_rate", sa.Numeric(precision=4, scale=2), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_article_unit_price_not_negative")),
        sa.CheckConstraint("vat_rate IN (21, 9, 0)", name=op.f("ck_article_vat_rate_known")),
        sa.ForeignKeyConstraint(
            ["business_entity_id"],
            ["business_entity.id"],
            name=op.f("fk_article_business_entity_id_business_entity"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article")),
        sa.UniqueConstraint("business_entity_id", "sku", name=op.f("uq_article_business_entity_id_sku")),
    )
    op.create_table(
        "line_item",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("article_id", sa.UUID(), nullable=True),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("discount_percent", sa.Numeric(precision=5, scale=2), server_default=sa.text("0"), nullable=False),
        sa.Column("vat_rate", sa.Numeric(precision=4, scale=2), nullable=False),
        sa.Column("is_commissionable", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "discount_percent >= 0 AND discount_percent <= 100", name=op.f("ck_line_item_discount_range")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_line_item_quantity_positive")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_line_item_unit_price_not_negative")),
        sa.CheckConstraint("vat_rate IN (21, 9, 0)", name=op.f("ck_line_item_vat_rate_known")),
        sa.ForeignKeyConstraint(
            ["article_id"], ["article.id"], name=op.f("fk_line_item_article_id_article"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_line_item_order_id_sales_order"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_item")),
    )
    op.create_index(op.f("ix_line_item_article_id"), "line_item", ["article_id"], unique=False)
    op.create_index("ix_line_item_order_created", "line_item", ["order_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_line_item_order_created", table_name="line_item")
    op.drop_index(op.f("ix_line_item_article_id"), table_name="line_item")
    op.drop_table("line_item")
    op.drop_table("article")
