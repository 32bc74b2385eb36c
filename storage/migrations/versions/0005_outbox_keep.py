"""Outbox messages that are deleted once sent

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 21:30:00

A reply such as the acknowledgement of an anonymous retro item must leave no delivery record
that names the person it went to: ``keep`` false marks it for deletion once sent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "outbox", sa.Column("keep", sa.Boolean(), nullable=False, server_default=sa.true())
    )


def downgrade() -> None:
    op.drop_column("outbox", "keep")
