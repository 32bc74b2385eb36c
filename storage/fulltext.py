"""Full-text expressions shared by the PostgreSQL indexes and the queries that must use them.

PostgreSQL uses an expression index only for a query holding the very same expression, so
both sides are built here: `index` for a model's table, `vector` for the search. The
configuration and the separators are SQL literals, never bound parameters, which a prepared
statement's generic plan could not match against the index.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, text
from sqlalchemy.dialects.postgresql import to_tsvector
from sqlalchemy.sql.elements import ColumnElement

CONFIG = "english"


def document(*columns: Any) -> ColumnElement[str]:
    """Several NOT NULL text columns searched as one: ``a || ' ' || b`` (immutable, so it
    can be indexed, unlike ``concat_ws``)."""
    found: ColumnElement[str] = columns[0]
    for column in columns[1:]:
        found = found.op("||")(text("' '")).op("||")(column)
    return found


def vector(words: Any) -> ColumnElement[Any]:
    """``to_tsvector('english', words)``, exactly as the indexes hold it."""
    return to_tsvector(text(f"'{CONFIG}'"), words)


def index(name: str, words: Any) -> Index:
    """A GIN index of ``vector(words)``, made on PostgreSQL only (SQLite searches by LIKE)."""
    return Index(name, vector(words), postgresql_using="gin").ddl_if(dialect="postgresql")
