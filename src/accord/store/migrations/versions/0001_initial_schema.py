"""Initial schema: organisations, users, tokens, groups, STIX object versions, grants, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 19:09:35.101691
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from accord.store.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clock", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_state")),
    )
    op.create_table(
        "organisation",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("identity_id", sa.String(length=100), nullable=False),
        sa.Column("sector", sa.String(length=80), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_organisation")),
        sa.UniqueConstraint("identity_id", name=op.f("uq_organisation_identity_id")),
        sa.UniqueConstraint("name", name=op.f("uq_organisation_name")),
    )
    op.create_table(
        "app_user",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("org_pk", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_pk"], ["organisation.pk"], name=op.f("fk_app_user_org_pk_organisation")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_app_user")),
        sa.UniqueConstraint("email", name=op.f("uq_app_user_email")),
    )
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_app_user_org_pk"), ["org_pk"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column(
            "pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("org_pk", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("target", sa.String(length=400), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["org_pk"], ["organisation.pk"], name=op.f("fk_audit_log_org_pk_organisation")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "sharing_group",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner_org_pk", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("members_visible", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_pk"], ["organisation.pk"], name=op.f("fk_sharing_group_owner_org_pk_organisation")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_sharing_group")),
        sa.UniqueConstraint("name", name=op.f("uq_sharing_group_name")),
    )
    with op.batch_alter_table("sharing_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sharing_group_owner_org_pk"), ["owner_org_pk"], unique=False)

    op.create_table(
        "stix_object",
        sa.Column(
            "pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("stix_id", sa.String(length=300), nullable=False),
        sa.Column("type", sa.String(length=250), nullable=False),
        sa.Column("spec_version", sa.String(length=8), nullable=False),
        sa.Column("version_key", sa.String(length=40), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("owner_org_pk", sa.Integer(), nullable=True),
        sa.Column("created_by_ref", sa.String(length=300), nullable=True),
        sa.Column("date_added", UTCDateTime(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_pk"], ["organisation.pk"], name=op.f("fk_stix_object_owner_org_pk_organisation")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_stix_object")),
        sa.UniqueConstraint("date_added", name=op.f("uq_stix_object_date_added")),
        sa.UniqueConstraint("stix_id", "version_key", name=op.f("uq_stix_object_stix_id_version_key")),
    )
    with op.batch_alter_table("stix_object", schema=None) as batch_op:
        batch_op.create_index("ix_stix_object_current_added", ["is_current", "date_added"], unique=False)
        batch_op.create_index(
            "ix_stix_object_current_type_added", ["is_current", "type", "date_added"], unique=False
        )
        batch_op.create_index("ix_stix_object_owner", ["owner_org_pk"], unique=False)
        batch_op.create_index("ix_stix_object_id_current", ["stix_id", "is_current"], unique=False)

    op.create_table(
        "api_token",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_pk"], ["app_user.pk"], name=op.f("fk_api_token_user_pk_app_user")),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_pk"), ["user_pk"], unique=False)

    op.create_table(
        "group_member",
        sa.Column("group_pk", sa.Integer(), nullable=False),
        sa.Column("org_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_pk"],
            ["sharing_group.pk"],
            name=op.f("fk_group_member_group_pk_sharing_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_pk"], ["organisation.pk"], name=op.f("fk_group_member_org_pk_organisation")
        ),
        sa.PrimaryKeyConstraint("group_pk", "org_pk", name=op.f("pk_group_member")),
    )
    with op.batch_alter_table("group_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_member_org_pk"), ["org_pk"], unique=False)

    op.create_table(
        "object_grant",
        sa.Column(
            "pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("object_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_pk", sa.Integer(), nullable=True),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("group_pk", sa.Integer(), nullable=True),
        sa.Column("user_pk", sa.Integer(), nullable=True),
        sa.Column("via", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_pk"], ["sharing_group.pk"], name=op.f("fk_object_grant_group_pk_sharing_group")
        ),
        sa.ForeignKeyConstraint(
            ["object_pk"],
            ["stix_object.pk"],
            name=op.f("fk_object_grant_object_pk_stix_object"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_pk"], ["organisation.pk"], name=op.f("fk_object_grant_org_pk_organisation")
        ),
        sa.ForeignKeyConstraint(["user_pk"], ["app_user.pk"], name=op.f("fk_object_grant_user_pk_app_user")),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_object_grant")),
    )
    with op.batch_alter_table("object_grant", schema=None) as batch_op:
        batch_op.create_index(
            "ix_object_grant_object", ["object_pk", "audience", "org_pk", "group_pk"], unique=False
        )

    op.create_table(
        "object_label",
        sa.Column("object_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("label", sa.String(length=250), nullable=False),
        sa.ForeignKeyConstraint(
            ["object_pk"],
            ["stix_object.pk"],
            name=op.f("fk_object_label_object_pk_stix_object"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_pk", "label", name=op.f("pk_object_label")),
    )
    with op.batch_alter_table("object_label", schema=None) as batch_op:
        batch_op.create_index("ix_object_label_label", ["label"], unique=False)

    op.create_table(
        "object_ref",
        sa.Column("object_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ref_id", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["object_pk"],
            ["stix_object.pk"],
            name=op.f("fk_object_ref_object_pk_stix_object"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_pk", "ref_id", name=op.f("pk_object_ref")),
    )
    with op.batch_alter_table("object_ref", schema=None) as batch_op:
        batch_op.create_index("ix_object_ref_ref", ["ref_id"], unique=False)
    _create_text_index()


def _create_text_index() -> None:
    """Substring search over ``search_text``: FTS5 trigrams on SQLite, pg_trgm GIN on PostgreSQL."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE object_text USING fts5(search_text, content='stix_object', "
            "content_rowid='pk', tokenize='trigram', detail=none)"
        )
        # Rows are added to the index in bulk by accord.store.objects.insert_versions (a per-row
        # trigger costs more than half the ingest rate); deletions are rare and use a trigger.
        op.execute(
            "CREATE TRIGGER stix_object_text_ad AFTER DELETE ON stix_object BEGIN "
            "INSERT INTO object_text(object_text, rowid, search_text) VALUES ('delete', old.pk, old.search_text); END"
        )
    elif bind.dialect.name == "postgresql":
        # pg_trgm ships with PostgreSQL; creating it may need rights the hub's role lacks, and then
        # substring search still works, only without an index.
        with bind.begin_nested() as savepoint:
            try:
                bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except Exception:  # noqa: BLE001
                savepoint.rollback()
                return
        ext_schema = bind.exec_driver_sql(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
        ).scalar_one()
        op.execute(
            f"CREATE INDEX ix_stix_object_search_trgm ON stix_object USING gin (search_text {ext_schema}.gin_trgm_ops)"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS stix_object_text_ad")
        op.execute("DROP TABLE IF EXISTS object_text")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_stix_object_search_trgm")
    with op.batch_alter_table("object_ref", schema=None) as batch_op:
        batch_op.drop_index("ix_object_ref_ref")

    op.drop_table("object_ref")
    with op.batch_alter_table("object_label", schema=None) as batch_op:
        batch_op.drop_index("ix_object_label_label")

    op.drop_table("object_label")
    with op.batch_alter_table("object_grant", schema=None) as batch_op:
        batch_op.drop_index("ix_object_grant_object")

    op.drop_table("object_grant")
    with op.batch_alter_table("group_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_member_org_pk"))

    op.drop_table("group_member")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_pk"))

    op.drop_table("api_token")
    with op.batch_alter_table("stix_object", schema=None) as batch_op:
        batch_op.drop_index("ix_stix_object_id_current")
        batch_op.drop_index("ix_stix_object_owner")
        batch_op.drop_index("ix_stix_object_current_type_added")
        batch_op.drop_index("ix_stix_object_current_added")

    op.drop_table("stix_object")
    with op.batch_alter_table("sharing_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_group_owner_org_pk"))

    op.drop_table("sharing_group")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_user_org_pk"))

    op.drop_table("app_user")
    op.drop_table("organisation")
    op.drop_table("hub_state")
