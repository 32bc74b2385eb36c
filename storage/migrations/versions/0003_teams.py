"""Teams: conversation references with their tenant, and members' zones and blocks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_conversation",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.String(length=128), nullable=False),
        sa.Column("conversation_id", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("team_id", sa.String(length=300), nullable=True),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("service_url", sa.String(length=300), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "conversation_id"),
    )
    op.create_index("ix_teams_conversation_user", "teams_conversation", ["tenant_id", "user_id"])
    op.create_table(
        "teams_member",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("local_timezone", sa.String(length=64), nullable=True),
        sa.Column("blocked_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("blocked_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "user_id"),
    )
    # Teams 1:1 conversation ids run past 128 characters, and lanes are built from them.
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("lane", type_=sa.String(length=600), existing_nullable=False)
        batch.alter_column("channel", type_=sa.String(length=300), existing_nullable=True)
        batch.alter_column("sent_channel", type_=sa.String(length=300), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("lane", type_=sa.String(length=300), existing_nullable=False)
        batch.alter_column("channel", type_=sa.String(length=128), existing_nullable=True)
        batch.alter_column("sent_channel", type_=sa.String(length=128), existing_nullable=True)
    op.drop_table("teams_member")
    op.drop_index("ix_teams_conversation_user", table_name="teams_conversation")
    op.drop_table("teams_conversation")
