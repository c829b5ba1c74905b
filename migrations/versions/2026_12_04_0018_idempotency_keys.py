"""idempotency keys: the first response to a request sent with an `Idempotency-Key`, kept 24 h

One row per (account, key): the request's fingerprint, and once it has been answered, the answer
(status, content type, body). The row is inserted in the transaction that stays open while the
request runs, so a concurrent duplicate waits on it (app/idempotency.py). Only the owner reads
and writes it: the request roles get no privileges on it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["user_account.id"], name="fk_idempotency_key_account_id_user_account", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("account_id", "key", name="pk_idempotency_key"),
        sa.CheckConstraint("length(key) BETWEEN 1 AND 255", name="ck_idempotency_key_key_length"),
    )
    op.create_index("ix_idempotency_key_expires_at", "idempotency_key", ["expires_at"])
    op.execute("REVOKE ALL ON idempotency_key FROM chargecars_api, chargecars_staff")


def downgrade() -> None:
    op.drop_table("idempotency_key")
