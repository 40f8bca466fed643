"""TAXII 2.1: collections (views over the store, with readers and writers) and persistent statuses.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from accord.store.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "taxii_collection",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("group_pk", sa.Integer(), nullable=True),
        sa.Column("readers_all", sa.Boolean(), nullable=False),
        sa.Column("writers", sa.String(length=8), nullable=False),
        sa.Column("write_audience", sa.String(length=220), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_pk"], ["sharing_group.pk"], name=op.f("fk_taxii_collection_group_pk_sharing_group")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_taxii_collection")),
        sa.UniqueConstraint("id", name=op.f("uq_taxii_collection_id")),
    )
    op.create_table(
        "taxii_collection_org",
        sa.Column("collection_pk", sa.Integer(), nullable=False),
        sa.Column("org_pk", sa.Integer(), nullable=False),
        sa.Column("access", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_pk"],
            ["taxii_collection.pk"],
            name=op.f("fk_taxii_collection_org_collection_pk_taxii_collection"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_pk"], ["organisation.pk"], name=op.f("fk_taxii_collection_org_org_pk_organisation")
        ),
        sa.PrimaryKeyConstraint("collection_pk", "org_pk", "access", name=op.f("pk_taxii_collection_org")),
    )
    op.create_table(
        "taxii_status",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("org_pk", sa.Integer(), nullable=True),
        sa.Column("user_pk", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("request_timestamp", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("success_count", sa.Integer(), nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("pending_count", sa.Integer(), nullable=False),
        sa.Column(
            "successes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "failures",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "pendings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(["org_pk"], ["organisation.pk"], name=op.f("fk_taxii_status_org_pk_organisation")),
        sa.ForeignKeyConstraint(["user_pk"], ["app_user.pk"], name=op.f("fk_taxii_status_user_pk_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_status")),
    )
    with op.batch_alter_table("taxii_status", schema=None) as batch_op:
        batch_op.create_index("ix_taxii_status_org", ["org_pk"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("taxii_status", schema=None) as batch_op:
        batch_op.drop_index("ix_taxii_status_org")
    op.drop_table("taxii_status")
    op.drop_table("taxii_collection_org")
    op.drop_table("taxii_collection")
