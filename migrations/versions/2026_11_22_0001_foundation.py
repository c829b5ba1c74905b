"""foundation: business entities, contacts with the channel hierarchy, user accounts, API tokens

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUSINESS_ENTITIES = [
    ("CC", "ChargeCars"),
    ("LT", "LaderThuis"),
    ("MKT", "MeterKastThuis"),
    ("ZS", "Zaptec Shop"),
    ("RS", "Ratio Shop"),
]

# Must equal app.contacts.service.HIERARCHY_LOCK_KEY: every write that can change the shape of
# the hierarchy takes this transaction-level advisory lock, so two moves that would together form
# a cycle are serialised and the second one sees the first.
HIERARCHY_LOCK_KEY = 7_340_001

HIERARCHY_GUARD = f"""
CREATE FUNCTION contact_hierarchy_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parent_type contact_type;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.contact_type <> OLD.contact_type THEN
        PERFORM pg_advisory_xact_lock({HIERARCHY_LOCK_KEY});
        IF NEW.contact_type <> 'organization'
           AND EXISTS (SELECT 1 FROM contact WHERE parent_organization_id = NEW.id) THEN
            RAISE EXCEPTION 'contact % has children and must stay an organisation', NEW.id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_contact_parent_is_organization';
        END IF;
    END IF;

    IF NEW.parent_organization_id IS NULL
       OR (TG_OP = 'UPDATE' AND NEW.parent_organization_id IS NOT DISTINCT FROM OLD.parent_organization_id) THEN
        RETURN NEW;
    END IF;

    PERFORM pg_advisory_xact_lock({HIERARCHY_LOCK_KEY});
    SELECT contact_type INTO parent_type FROM contact WHERE id = NEW.parent_organization_id;
    IF parent_type IS DISTINCT FROM 'organization' THEN
        RAISE EXCEPTION 'parent % of contact % is not an organisation', NEW.parent_organization_id, NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_contact_parent_is_organization';
    END IF;

    IF TG_OP = 'UPDATE' AND EXISTS (
        WITH RECURSIVE up(id) AS (
            SELECT NEW.parent_organization_id
            UNION
            SELECT c.parent_organization_id FROM contact c JOIN up ON c.id = up.id
            WHERE c.parent_organization_id IS NOT NULL
        )
        SELECT 1 FROM up WHERE up.id = NEW.id
    ) THEN
        RAISE EXCEPTION 'moving contact % under % would form a cycle', NEW.id, NEW.parent_organization_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_contact_no_cycle';
    END IF;
    RETURN NEW;
END
$$
"""

HIERARCHY_TRIGGER = """
CREATE TRIGGER contact_hierarchy_guard
BEFORE INSERT OR UPDATE OF parent_organization_id, contact_type ON contact
FOR EACH ROW EXECUTE FUNCTION contact_hierarchy_guard()
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

    business_entity = op.create_table(
        "business_entity",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_entity")),
        sa.UniqueConstraint("code", name=op.f("uq_business_entity_code")),
    )
    op.bulk_insert(business_entity, [{"code": code, "name": name} for code, name in BUSINESS_ENTITIES])

    contact_type = postgresql.ENUM("person", "organization", name="contact_type", create_type=False)
    contact_type.create(op.get_bind())
    op.create_table(
        "contact",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("contact_type", contact_type, nullable=False),
        sa.Column("contact_subtype", sa.String(length=50), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("parent_organization_id", sa.UUID(), nullable=True),
        sa.Column("commission_rate", sa.Numeric(precision=5, scale=4), nullable=True),
        sa.Column("business_entity_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("parent_organization_id <> id", name=op.f("ck_contact_not_own_parent")),
        sa.CheckConstraint(
            "commission_rate IS NULL OR (commission_rate >= 0 AND commission_rate <= 1)",
            name=op.f("ck_contact_commission_rate_range"),
        ),
        sa.CheckConstraint(
            "contact_type = 'organization' OR commission_rate IS NULL",
            name=op.f("ck_contact_commission_rate_organization_only"),
        ),
        sa.ForeignKeyConstraint(
            ["business_entity_id"],
            ["business_entity.id"],
            name=op.f("fk_contact_business_entity_id_business_entity"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["parent_organization_id"],
            ["contact.id"],
            name=op.f("fk_contact_parent_organization_id_contact"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact")),
    )
    op.create_index(op.f("ix_contact_parent_organization_id"), "contact", ["parent_organization_id"])
    op.create_index(op.f("ix_contact_business_entity_id"), "contact", ["business_entity_id"])
    op.create_index("ix_contact_type_subtype", "contact", ["contact_type", "contact_subtype"])
    op.create_index(
        "ix_contact_display_name_trgm",
        "contact",
        ["display_name"],
        postgresql_using="gin",
        postgresql_ops={"display_name": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_contact_email_trgm",
        "contact",
        ["email"],
        postgresql_using="gin",
        postgresql_ops={"email": "gin_trgm_ops"},
    )
    op.execute(HIERARCHY_GUARD)
    op.execute(HIERARCHY_TRIGGER)

    op.create_table(
        "user_account",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("contact_id", sa.UUID(), nullable=True),
        sa.Column("roles", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "roles <@ ARRAY['admin', 'staff', 'finance', 'partner', 'customer']::text[]",
            name=op.f("ck_user_account_known_roles"),
        ),
        sa.CheckConstraint("cardinality(roles) > 0", name=op.f("ck_user_account_has_role")),
        sa.CheckConstraint(
            "contact_id IS NOT NULL OR NOT (roles && ARRAY['partner', 'customer']::text[])",
            name=op.f("ck_user_account_scoped_roles_have_contact"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_user_account_contact_id_contact"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("email", name=op.f("uq_user_account_email")),
    )
    op.create_index(op.f("ix_user_account_contact_id"), "user_account", ["contact_id"])

    op.create_table(
        "api_token",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_account_id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_account_id"],
            ["user_account.id"],
            name=op.f("fk_api_token_user_account_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_index(op.f("ix_api_token_user_account_id"), "api_token", ["user_account_id"])
    op.create_index(
        "ix_api_token_active", "api_token", ["user_account_id"], postgresql_where=sa.text("revoked_at IS NULL")
    )


def downgrade() -> None:
    op.drop_table("api_token")
    op.drop_table("user_account")
    op.execute("DROP TRIGGER contact_hierarchy_guard ON contact")
    op.execute("DROP FUNCTION contact_hierarchy_guard()")
    op.drop_table("contact")
    postgresql.ENUM(name="contact_type").drop(op.get_bind())
    op.drop_table("business_entity")
