"""Co-leads of a ritual, who may change it as its lead may

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 21:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ids = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "ritual_colead",
        sa.Column("ritual_id", ids, nullable=False),
        sa.Column("member_id", ids, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ritual_id"], ["ritual.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ritual_id", "member_id"),
    )


def downgrade() -> None:
    op.drop_table("ritual_colead")
