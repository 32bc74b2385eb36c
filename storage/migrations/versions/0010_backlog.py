"""The backlog: sprints (one open per channel), items with a number per channel and an index
for every list filter, and each item's history

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_backlog_item_phase": ["ritual_id", "phase", "priority", "number"],
    "ix_backlog_item_type": ["ritual_id", "phase", "type", "priority", "number"],
    "ix_backlog_item_owner": ["ritual_id", "phase", "owner_id", "priority", "number"],
    "ix_backlog_item_sprint": ["ritual_id", "phase", "sprint_id", "priority", "number"],
}


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "backlog_sprint",
        sa.Column("id", _id(), nullable=False),
        sa.Column("ritual_id", _id(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("goal", sa.String(length=300), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        # Set while the sprint runs: unique, so a channel has one open sprint at a time.
        sa.Column("open_ritual_id", _id(), nullable=True),
        sa.Column("started_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("started_by", _id(), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("review_outbox_id", _id(), nullable=True),
        sa.Column("carry", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(["ritual_id"], ["ritual.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["started_by"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_ritual_id"),
        sa.UniqueConstraint("ritual_id", "key"),
    )
    op.create_table(
        "backlog_item",
        sa.Column("id", _id(), nullable=False),
        sa.Column("ritual_id", _id(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("owner_id", _id(), nullable=True),
        sa.Column("sprint_id", _id(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("created_by", _id(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ritual_id"], ["ritual.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["sprint_id"], ["backlog_sprint.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ritual_id", "number"),
        sa.UniqueConstraint("ritual_id", "source"),
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "backlog_item", columns)
    op.create_table(
        "backlog_change",
        sa.Column("id", _id(), nullable=False),
        sa.Column("item_id", _id(), nullable=False),
        sa.Column("member_id", _id(), nullable=True),
        sa.Column("what", sa.String(length=400), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["backlog_item.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_backlog_change_item", "backlog_change", ["item_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_backlog_change_item", table_name="backlog_change")
    op.drop_table("backlog_change")
    for name in INDEXES:
        op.drop_index(name, table_name="backlog_item")
    op.drop_table("backlog_item")
    op.drop_table("backlog_sprint")
