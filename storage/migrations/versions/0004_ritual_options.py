"""Stand-up settings leave the generic ritual row for its typed options

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 21:00:00

Stand-up responses also remember when their person was last asked (``asked_at``).

A ritual row now holds what every kind has (channel, kind, zone, lead, pause, version); each
kind keeps its own settings in ``options``, read through a typed model in its package. The
stand-up columns are folded into ``options`` here, and unfolded again on downgrade.

Columns are dropped in place (SQLite 3.35+ and PostgreSQL both can): rebuilding the table,
as batch mode would on SQLite, deletes the rows that reference it by cascade.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("at", "days", "summary_at", "country", "questions", "skip_dates")

ritual = sa.table(
    "ritual",
    sa.column("id", sa.Integer()),
    sa.column("at", sa.String()),
    sa.column("days", sa.String()),
    sa.column("summary_at", sa.String()),
    sa.column("country", sa.String()),
    sa.column("questions", sa.JSON()),
    sa.column("skip_dates", sa.JSON()),
    sa.column("options", sa.JSON()),
)


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(ritual)).mappings().all()
    for row in rows:
        options: dict[str, Any] = dict(row["options"] or {})
        options.update(
            at=row["at"],
            days=[int(d) for d in (row["days"] or "").split(",") if d],
            summary_at=row["summary_at"],
            country=row["country"],
            questions=list(row["questions"] or []),
            skip_dates=list(row["skip_dates"] or []),
        )
        bind.execute(sa.update(ritual).where(ritual.c.id == row["id"]).values(options=options))
    for column in COLUMNS:
        op.drop_column("ritual", column)
    # When a person was last asked a question of this run: a direct message answers the
    # conversation, of whichever kind, that asked last.
    op.add_column("response", sa.Column("asked_at", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("response", "asked_at")
    defaults = {"at": "09:30", "days": "1,2,3,4,5", "summary_at": "12:30"}
    for column, width in (("at", 5), ("days", 13), ("summary_at", 5)):
        op.add_column(
            "ritual",
            sa.Column(
                column, sa.String(length=width), nullable=False, server_default=defaults[column]
            ),
        )
    op.add_column("ritual", sa.Column("country", sa.String(length=8), nullable=True))
    for column in ("questions", "skip_dates"):
        op.add_column("ritual", sa.Column(column, sa.JSON(), nullable=False, server_default="[]"))
    bind = op.get_bind()
    for row in bind.execute(sa.select(ritual.c.id, ritual.c.options)).mappings().all():
        options = dict(row["options"] or {})
        folded = {key: options.pop(key, None) for key in COLUMNS}
        values: dict[str, Any] = {"options": options}
        if folded["at"] is not None:
            values.update(
                at=folded["at"],
                days=",".join(str(d) for d in folded["days"] or []),
                summary_at=folded["summary_at"],
                country=folded["country"],
                questions=folded["questions"] or [],
                skip_dates=folded["skip_dates"] or [],
            )
        bind.execute(sa.update(ritual).where(ritual.c.id == row["id"]).values(**values))
    if bind.dialect.name == "postgresql":
        for column in ("at", "days", "summary_at", "questions", "skip_dates"):
            op.alter_column("ritual", column, server_default=None)
