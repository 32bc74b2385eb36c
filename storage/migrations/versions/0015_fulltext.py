"""Full-text indexes for `ask` on PostgreSQL: each text it searches, as it searches it

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The very expressions `storage.fulltext` builds for the models and the queries; SQLite
# searches by LIKE and gets none.
INDEXES = (
    ("ix_answer_fts", "answer", "text"),
    ("ix_retro_item_fts", "retro_item", "text"),
    (
        "ix_hypothesis_fts",
        "hypothesis",
        "belief || ' ' || result || ' ' || metric || ' ' || outcome_note",
    ),
    ("ix_hypothesis_point_fts", "hypothesis_point", "note"),
    ("ix_alert_fts", "alert", "name || ' ' || summary || ' ' || model || ' ' || metric"),
    ("ix_backlog_item_fts", "backlog_item", "title || ' ' || description"),
    ("ix_backlog_change_fts", "backlog_change", "what"),
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgresql():
        return
    for name, table, text in INDEXES:
        op.create_index(
            name, table, [sa.text(f"to_tsvector('english', {text})")], postgresql_using="gin"
        )


def downgrade() -> None:
    if not _postgresql():
        return
    for name, table, _text in reversed(INDEXES):
        op.drop_index(name, table_name=table)
