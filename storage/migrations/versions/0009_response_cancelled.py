"""A person can stop a stand-up run for themselves (`cancel`)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 21:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("response", sa.Column("cancelled_at", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("response", "cancelled_at")
