"""An alert keeps the value it fired at, for the post-mortem's timeline

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.add_column(sa.Column("fired_value", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.drop_column("fired_value")
