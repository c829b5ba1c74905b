"""the worker that made each webhook attempt

`webhook_attempt.worker` (host and process id): which of several workers made an attempt, and
so which one was lost when an attempt is closed as lost.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("webhook_attempt", sa.Column("worker", sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.drop_column("webhook_attempt", "worker")
