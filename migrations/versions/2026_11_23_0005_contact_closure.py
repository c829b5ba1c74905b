"""contact closure: every (ancestor, descendant, depth) pair of the hierarchy, kept on write

The visibility policy (docs/design.md, "Visibility") asks "is this contact in the subtree of
that one" for every row it filters; the closure table answers with one primary-key lookup
instead of a recursive query. Triggers keep it exact: a new contact gets its chain, a move
re-links the moved subtree under its new ancestors in the same statement. Both run after
`contact_hierarchy_guard`, which holds the hierarchy's advisory lock, so concurrent moves and
inserts see each other's closure rows. `contact_closure_rebuild()` recomputes it all (used
here and by bulk loads that skip triggers).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REBUILD = """
CREATE FUNCTION contact_closure_rebuild() RETURNS void
LANGUAGE sql AS $$
    DELETE FROM contact_closure;
    INSERT INTO contact_closure (ancestor_id, descendant_id, depth)
    WITH RECURSIVE chain(ancestor_id, descendant_id, depth) AS (
        SELECT id, id, 0 FROM contact
        UNION ALL
        SELECT c.parent_organization_id, chain.descendant_id, chain.depth + 1
        FROM chain JOIN contact c ON c.id = chain.ancestor_id
        WHERE c.parent_organization_id IS NOT NULL
    )
    SELECT ancestor_id, descendant_id, depth FROM chain;
$$
"""

MAINTAIN = """
CREATE FUNCTION contact_closure_maintain() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO contact_closure (ancestor_id, descendant_id, depth)
        SELECT NEW.id, NEW.id, 0
        UNION ALL
        SELECT ancestor_id, NEW.id, depth + 1 FROM contact_closure WHERE descendant_id = NEW.parent_organization_id;
        RETURN NULL;
    END IF;
    -- a move: unlink the subtree from its old ancestors, link it under the new ones
    DELETE FROM contact_closure link
    USING contact_closure below
    WHERE below.ancestor_id = NEW.id
      AND link.descendant_id = below.descendant_id
      AND link.ancestor_id IN (SELECT ancestor_id FROM contact_closure WHERE descendant_id = NEW.id AND depth > 0);
    INSERT INTO contact_closure (ancestor_id, descendant_id, depth)
    SELECT above.ancestor_id, below.descendant_id, above.depth + below.depth + 1
    FROM contact_closure above, contact_closure below
    WHERE above.descendant_id = NEW.parent_organization_id AND below.ancestor_id = NEW.id;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "contact_closure",
        sa.Column("ancestor_id", sa.UUID(), nullable=False),
        sa.Column("descendant_id", sa.UUID(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ancestor_id"], ["contact.id"], name=op.f("fk_contact_closure_ancestor_id_contact"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["descendant_id"], ["contact.id"], name=op.f("fk_contact_closure_descendant_id_contact"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("ancestor_id", "descendant_id", name=op.f("pk_contact_closure")),
    )
    op.create_index("ix_contact_closure_descendant", "contact_closure", ["descendant_id", "depth"])
    op.execute(REBUILD)
    op.execute(MAINTAIN)
    op.execute(
        "CREATE TRIGGER contact_closure_insert AFTER INSERT ON contact "
        "FOR EACH ROW EXECUTE FUNCTION contact_closure_maintain()"
    )
    op.execute(
        "CREATE TRIGGER contact_closure_move AFTER UPDATE OF parent_organization_id ON contact "
        "FOR EACH ROW WHEN (OLD.parent_organization_id IS DISTINCT FROM NEW.parent_organization_id) "
        "EXECUTE FUNCTION contact_closure_maintain()"
    )
    op.execute("SELECT contact_closure_rebuild()")


def downgrade() -> None:
    op.execute("DROP TRIGGER contact_closure_move ON contact")
    op.execute("DROP TRIGGER contact_closure_insert ON contact")
    op.execute("DROP FUNCTION contact_closure_maintain()")
    op.execute("DROP FUNCTION contact_closure_rebuild()")
    op.drop_index("ix_contact_closure_descendant", table_name="contact_closure")
    op.drop_table("contact_closure")
