"""Retros: boards, items, votes and budgets, action items with their history, cadences

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "retro",
        sa.Column("id", _id(), nullable=False),
        sa.Column("ritual_id", _id(), nullable=False),
        sa.Column("channel_id", _id(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("allow_anonymous", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("votes_per_person", sa.Integer(), nullable=False),
        sa.Column("facilitator_id", _id(), nullable=True),
        # Set while the board is open: unique, so a channel has one open board at a time.
        sa.Column("open_ritual_id", _id(), nullable=True),
        sa.Column("board_outbox_id", _id(), nullable=True),
        sa.Column("opened_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("revealed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["ritual_id"], ["ritual.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["facilitator_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_ritual_id"),
    )
    op.create_index("ix_retro_ritual", "retro", ["ritual_id", "opened_at"])
    # No author column is ever set for an anonymous item, and no created_at is kept at all.
    op.create_table(
        "retro_item",
        sa.Column("id", _id(), nullable=False),
        sa.Column("ritual_id", _id(), nullable=False),
        sa.Column("retro_id", _id(), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", _id(), nullable=True),
        sa.Column("thread_outbox_id", _id(), nullable=True),
        sa.ForeignKeyConstraint(["ritual_id"], ["ritual.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["retro_id"], ["retro.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_retro_item_retro", "retro_item", ["retro_id"])
    op.create_index("ix_retro_item_waiting", "retro_item", ["ritual_id", "retro_id"])
    op.create_table(
        "retro_voter",
        sa.Column("retro_id", _id(), nullable=False),
        sa.Column("member_id", _id(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["retro_id"], ["retro.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("retro_id", "member_id"),
    )
    op.create_table(
        "retro_vote",
        sa.Column("id", _id(), nullable=False),
        sa.Column("retro_id", _id(), nullable=False),
        sa.Column("item_id", _id(), nullable=False),
        sa.Column("member_id", _id(), nullable=False),
        sa.Column("cast_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["retro_id"], ["retro.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_id"], ["retro_item.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "member_id"),
    )
    op.create_index("ix_retro_vote_retro", "retro_vote", ["retro_id"])
    op.create_table(
        "retro_action",
        sa.Column("id", _id(), nullable=False),
        sa.Column("ritual_id", _id(), nullable=False),
        sa.Column("retro_id", _id(), nullable=True),
        sa.Column("item_id", _id(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("owner_id", _id(), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("done_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("reminded_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("answered_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["ritual_id"], ["ritual.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["retro_id"], ["retro.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["item_id"], ["retro_item.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["owner_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_retro_action_ritual", "retro_action", ["ritual_id", "status"])
    op.create_index("ix_retro_action_owner", "retro_action", ["owner_id", "status"])
    op.create_table(
        "retro_action_note",
        sa.Column("id", _id(), nullable=False),
        sa.Column("action_id", _id(), nullable=False),
        sa.Column("retro_id", _id(), nullable=True),
        sa.Column("member_id", _id(), nullable=True),
        sa.Column("note", sa.String(length=16), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["retro_action.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["retro_id"], ["retro.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_retro_action_note_action", "retro_action_note", ["action_id"])
    op.create_table(
        "retro_series",
        sa.Column("ritual_id", _id(), nullable=False),
        sa.Column("every_weeks", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("at", sa.String(length=5), nullable=False),
        sa.Column("anchor", sa.Date(), nullable=False),
        sa.Column("since", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ritual_id"], ["ritual.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ritual_id"),
    )
    # One row per scheduled date: the claim that opens it once across processes.
    op.create_table(
        "retro_run",
        sa.Column("id", _id(), nullable=False),
        sa.Column("ritual_id", _id(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("due_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("retro_id", _id(), nullable=True),
        sa.ForeignKeyConstraint(["ritual_id"], ["ritual.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["retro_id"], ["retro.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ritual_id", "local_date"),
    )


def downgrade() -> None:
    op.drop_table("retro_run")
    op.drop_table("retro_series")
    op.drop_index("ix_retro_action_note_action", table_name="retro_action_note")
    op.drop_table("retro_action_note")
    op.drop_index("ix_retro_action_owner", table_name="retro_action")
    op.drop_index("ix_retro_action_ritual", table_name="retro_action")
    op.drop_table("retro_action")
    op.drop_index("ix_retro_vote_retro", table_name="retro_vote")
    op.drop_table("retro_vote")
    op.drop_table("retro_voter")
    op.drop_index("ix_retro_item_waiting", table_name="retro_item")
    op.drop_index("ix_retro_item_retro", table_name="retro_item")
    op.drop_table("retro_item")
    op.drop_index("ix_retro_ritual", table_name="retro")
    op.drop_table("retro")
