"""Partner hubs as a kind of organisation; web sessions held server-side.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 01:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from accord.store.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="member"))
    op.create_table(
        "web_session",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("stamp", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("client", sa.String(length=200), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_pk"], ["app_user.pk"], name=op.f("fk_web_session_user_pk_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_web_session")),
        sa.UniqueConstraint("session_hash", name=op.f("uq_web_session_session_hash")),
    )
    op.create_index(op.f("ix_web_session_user_pk"), "web_session", ["user_pk"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_web_session_user_pk"), table_name="web_session")
    op.drop_table("web_session")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("kind")
