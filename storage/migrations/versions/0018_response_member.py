"""A person's open stand-up responses are found by index, not by reading every response

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 17:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_response_member_open", "response", ["member_id", "completed_at"])


def downgrade() -> None:
    op.drop_index("ix_response_member_open", table_name="response")
