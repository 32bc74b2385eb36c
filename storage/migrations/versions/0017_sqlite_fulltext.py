"""Full-text indexes for `ask` on SQLite: an FTS5 table of each text it searches, filled
from the rows already stored and kept in step by triggers

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# The documents `storage.fulltext.index` declares (the texts 0015 indexes on PostgreSQL):
# the FTS5 table, the table searched, the columns its words are made of (in the table's
# order) and the words, as SQL over a row named {row}. PostgreSQL has its GIN indexes and
# gets none of these. Written out, not read from the models: a revision does not change.
INDEXES = (
    ("answer_fts", "answer", ("text",), "{row}.text"),
    ("retro_item_fts", "retro_item", ("text",), "{row}.text"),
    (
        "hypothesis_fts",
        "hypothesis",
        ("belief", "result", "metric", "outcome_note"),
        "{row}.belief || ' ' || {row}.result || ' ' || {row}.metric || ' ' || {row}.outcome_note",
    ),
    ("hypothesis_point_fts", "hypothesis_point", ("note",), "{row}.note"),
    (
        "alert_fts",
        "alert",
        ("name", "model", "metric", "summary"),
        "{row}.name || ' ' || {row}.summary || ' ' || {row}.model || ' ' || {row}.metric",
    ),
    (
        "backlog_item_fts",
        "backlog_item",
        ("title", "description"),
        "{row}.title || ' ' || {row}.description",
    ),
    ("backlog_change_fts", "backlog_change", ("what",), "{row}.what"),
)
TOKENIZER = "unicode61 remove_diacritics 2"
TRIGGERS = ("insert", "update", "delete")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if not _sqlite():
        return
    for fts, table, columns, words in INDEXES:
        new, old = words.format(row="new"), words.format(row="old")
        put = f"INSERT INTO {fts}(rowid, words) VALUES (new.id, {new});"
        take = f"INSERT INTO {fts}({fts}, rowid, words) VALUES ('delete', old.id, {old});"
        of = ", ".join(("id", *columns))
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5(words, content='', tokenize='{TOKENIZER}')"
        )
        # The history stored before this revision, so an upgraded database finds it.
        op.execute(
            f"INSERT INTO {fts}(rowid, words) SELECT id, {words.format(row=table)} FROM {table}"
        )
        op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {put} END")
        op.execute(
            f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {of} ON {table} BEGIN {take} {put} END"
        )
        op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {take} END")


def downgrade() -> None:
    if not _sqlite():
        return
    for fts, _table, _columns, _words in reversed(INDEXES):
        for trigger in TRIGGERS:
            op.execute(f"DROP TRIGGER {fts}_{trigger}")
        op.execute(f"DROP TABLE {fts}")
