"""status rows by entity id alone: the read path loads the current status and the history of a
page's orders, quotes, visits and work orders in one statement each, by id, without the entity
type, and the primary key (entity_type, entity_id) answered that with a skip scan over the
types (923 index searches and 2,800 buffers for the 188 entities of an order page at scale 1)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_entity_current_status_entity_id", "entity_current_status", ["entity_id"])
    op.create_index("ix_status_transition_entity_id", "status_transition", ["entity_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_status_transition_entity_id", table_name="status_transition")
    op.drop_index("ix_entity_current_status_entity_id", table_name="entity_current_status")
