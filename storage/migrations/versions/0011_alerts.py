"""Alerts: webhook tokens, alert groups and alerts, rules; a retro remembers what opened it

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_hook",
        sa.Column("ritual_id", _id(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ritual_id"], ["ritual.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ritual_id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "alert_group",
        sa.Column("id", _id(), nullable=False),
        sa.Column("ritual_id", _id(), nullable=False),
        sa.Column("open_key", sa.String(length=80), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("outbox_id", _id(), nullable=True),
        sa.Column("opened_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("closed_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["ritual_id"], ["ritual.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key"),
    )
    op.create_index("ix_alert_group_ritual", "alert_group", ["ritual_id", "opened_at"])
    op.create_table(
        "alert",
        sa.Column("id", _id(), nullable=False),
        sa.Column("ritual_id", _id(), nullable=False),
        sa.Column("group_id", _id(), nullable=False),
        sa.Column("identity", sa.String(length=64), nullable=False),
        sa.Column("open_key", sa.String(length=80), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_event", sa.String(length=64), nullable=False),
        sa.Column("fired_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("acked_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("acked_by", _id(), nullable=True),
        sa.Column("escalated_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("task_ref", sa.String(length=200), nullable=True),
        sa.Column("postmortem_ref", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["ritual_id"], ["ritual.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["group_id"], ["alert_group.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["acked_by"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key"),
    )
    op.create_index("ix_alert_ritual_status", "alert", ["ritual_id", "status"])
    op.create_index("ix_alert_group", "alert", ["group_id"])
    op.create_table(
        "alert_rule",
        sa.Column("id", _id(), nullable=False),
        sa.Column("ritual_id", _id(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=200), nullable=False),
        sa.Column("op", sa.String(length=2), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("for_minutes", sa.Integer(), nullable=False),
        sa.Column("breach_since", storage.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ritual_id"], ["ritual.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_rule_lookup", "alert_rule", ["ritual_id", "model", "metric"])
    # A post-mortem opened from an alert: handed over twice, it is the same retro.
    with op.batch_alter_table("retro") as batch:
        batch.add_column(sa.Column("source", sa.String(length=200), nullable=True))
        batch.create_unique_constraint("uq_retro_source", ["source"])


def downgrade() -> None:
    with op.batch_alter_table("retro") as batch:
        batch.drop_constraint("uq_retro_source", type_="unique")
        batch.drop_column("source")
    op.drop_table("alert_rule")
    op.drop_table("alert")
    op.drop_table("alert_group")
    op.drop_table("alert_hook")
