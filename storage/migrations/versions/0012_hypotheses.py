"""Hypotheses: the canvas, its series, history, scheduled check-ins and weekly digests

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, storage.types.UTCDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "hypothesis",
        sa.Column("id", _id(), nullable=False),
        sa.Column("ritual_id", _id(), nullable=False),
        sa.Column("channel_id", _id(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("belief", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("metric", sa.String(length=100), nullable=False),
        sa.Column("op", sa.String(length=2), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("cadence", sa.String(length=100), nullable=False),
        sa.Column("owner_id", _id(), nullable=True),
        sa.Column("created_by", _id(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        # The last values, so a digest reads one row per hypothesis whatever its history.
        sa.Column("recent", sa.JSON(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        _at("last_point_at"),
        _at("next_checkin_at"),
        _at("missed_at"),
        _at("created_at", nullable=False),
        _at("closed_at"),
        sa.Column("outcome_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["ritual_id"], ["ritual.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ritual_id", "number"),
    )
    op.create_index("ix_hypothesis_due", "hypothesis", ["next_checkin_at"])
    op.create_index("ix_hypothesis_owner", "hypothesis", ["owner_id", "state"])
    # One row per point; (hypothesis, source) unique so a value handed over twice lands once.
    op.create_table(
        "hypothesis_point",
        sa.Column("id", _id(), nullable=False),
        sa.Column("hypothesis_id", _id(), nullable=False),
        _at("at", nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("member_id", _id(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["hypothesis_id"], ["hypothesis.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hypothesis_id", "source"),
    )
    op.create_index("ix_hypothesis_point_at", "hypothesis_point", ["hypothesis_id", "at"])
    op.create_table(
        "hypothesis_event",
        sa.Column("id", _id(), nullable=False),
        sa.Column("hypothesis_id", _id(), nullable=False),
        _at("at", nullable=False),
        sa.Column("member_id", _id(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["hypothesis_id"], ["hypothesis.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_hypothesis_event_hypothesis", "hypothesis_event", ["hypothesis_id"])
    # One row per scheduled check-in: the claim that asks it once across processes.
    op.create_table(
        "hypothesis_ask",
        sa.Column("id", _id(), nullable=False),
        sa.Column("hypothesis_id", _id(), nullable=False),
        sa.Column("owner_id", _id(), nullable=False),
        _at("due_at", nullable=False),
        _at("asked_at"),
        _at("reminded_at"),
        _at("answered_at"),
        _at("missed_at"),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(["hypothesis_id"], ["hypothesis.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hypothesis_id", "due_at"),
    )
    op.create_index("ix_hypothesis_ask_owner", "hypothesis_ask", ["owner_id", "answered_at"])
    op.create_index("ix_hypothesis_ask_open", "hypothesis_ask", ["answered_at", "missed_at"])
    op.create_table(
        "hypothesis_digest_run",
        sa.Column("id", _id(), nullable=False),
        sa.Column("ritual_id", _id(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        _at("due_at", nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(["ritual_id"], ["ritual.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ritual_id", "local_date"),
    )


def downgrade() -> None:
    op.drop_table("hypothesis_digest_run")
    op.drop_index("ix_hypothesis_ask_open", table_name="hypothesis_ask")
    op.drop_index("ix_hypothesis_ask_owner", table_name="hypothesis_ask")
    op.drop_table("hypothesis_ask")
    op.drop_index("ix_hypothesis_event_hypothesis", table_name="hypothesis_event")
    op.drop_table("hypothesis_event")
    op.drop_index("ix_hypothesis_point_at", table_name="hypothesis_point")
    op.drop_table("hypothesis_point")
    op.drop_index("ix_hypothesis_owner", table_name="hypothesis")
    op.drop_index("ix_hypothesis_due", table_name="hypothesis")
    op.drop_table("hypothesis")
