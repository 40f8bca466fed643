"""MISP feeds: the digest of each event file last stored, so an unchanged event without a timestamp is
not stored again (as a new version) at every pull.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 05:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("federation_feed_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("federation_feed_event", schema=None) as batch_op:
        batch_op.drop_column("content_digest")
