"""Federation: feeds (TAXII and MISP) with their checkpoints and health; collections of one feed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 23:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from accord.store.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("taxii_collection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feed_name", sa.String(length=64), nullable=True))
    op.create_table(
        "federation_feed",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("collection_id", sa.String(length=200), nullable=True),
        sa.Column("auth", sa.String(length=8), nullable=False),
        sa.Column("username", sa.String(length=320), nullable=True),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("org_pk", sa.Integer(), nullable=True),
        sa.Column("audience", sa.String(length=220), nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("checkpoint", sa.String(length=64), nullable=True),
        sa.Column("last_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", UTCDateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("objects_pulled", sa.BigInteger(), nullable=False),
        sa.Column("last_pull_objects", sa.Integer(), nullable=True),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["org_pk"], ["organisation.pk"], name=op.f("fk_federation_feed_org_pk_organisation")),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_federation_feed")),
        sa.UniqueConstraint("name", name=op.f("uq_federation_feed_name")),
    )
    op.create_table(
        "federation_feed_event",
        sa.Column("feed_pk", sa.Integer(), nullable=False),
        sa.Column("event_uuid", sa.String(length=64), nullable=False),
        sa.Column("event_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("pulled_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_pk"],
            ["federation_feed.pk"],
            name=op.f("fk_federation_feed_event_feed_pk_federation_feed"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("feed_pk", "event_uuid", name=op.f("pk_federation_feed_event")),
    )


def downgrade() -> None:
    op.drop_table("federation_feed_event")
    op.drop_table("federation_feed")
    with op.batch_alter_table("taxii_collection", schema=None) as batch_op:
        batch_op.drop_column("feed_name")
