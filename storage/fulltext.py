"""Full-text indexes of what `ask` searches, on both backends, from one declaration.

`index(name, words)` declares that ``words`` (a text column, or several as one `document`)
is searched, and gives it an index on each backend:

- PostgreSQL: a GIN index of ``to_tsvector('english', words)``. PostgreSQL uses an
  expression index only for a query holding the very same expression, so both sides are
  built here: `index` for a model's table, `vector` for the search. The configuration and
  the separators are SQL literals, never bound parameters, which a prepared statement's
  generic plan could not match against the index.
- SQLite: an FTS5 table ``<table>_fts`` (the index's name without its ``ix_``) holding
  nothing but the index of ``words`` (``content=''``), one entry per row under the row's id,
  kept in step by triggers on the table (`Searched.statements`); `match` is the condition a
  search holds. `DECLARED` lists every declaration, so the schema tests hold the migrations
  to it, and `Base.metadata.create_all` makes them too.

A migration that rebuilds a searched table on SQLite (Alembic's batch mode copies it and
drops the old one) drops its triggers with it and must create them again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import DDL, Column, Index, Table, column, event, literal, select, table, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import to_tsvector
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnElement, literal_column

CONFIG = "english"
# Words as unicode61 splits them (letters and digits), case and accents folded.
TOKENIZER = "unicode61 remove_diacritics 2"


def document(*columns: Any) -> ColumnElement[str]:
    """Several NOT NULL text columns searched as one: ``a || ' ' || b`` (immutable, so it
    can be indexed, unlike ``concat_ws``)."""
    found: ColumnElement[str] = columns[0]
    for column_ in columns[1:]:
        found = found.op("||")(text("' '")).op("||")(column_)
    return found


def vector(words: Any) -> ColumnElement[Any]:
    """``to_tsvector('english', words)``, exactly as the indexes hold it."""
    return to_tsvector(text(f"'{CONFIG}'"), words)


@dataclass(frozen=True, eq=False)
class Searched:
    """One declared document: ``words`` of ``table``, indexed on SQLite by ``fts``."""

    fts: str
    table: Table
    words: ColumnElement[Any]

    @cached_property
    def key(self) -> str:
        """``words`` as SQL, which tells one document from another."""
        return _key(self.words)

    def words_of(self, row: str) -> str:
        """``words`` as SQL over the columns of ``row`` (``new``, ``old`` or the table)."""
        quote = _SQLITE.identifier_preparer.quote

        def swap(element: Any) -> Any:
            if isinstance(element, Column):
                return literal_column(f"{row}.{quote(element.name)}")
            return None

        swapped = visitors.replacement_traverse(self.words, {}, swap)
        return str(swapped.compile(dialect=_SQLITE, compile_kwargs={"literal_binds": True}))

    @property
    def columns(self) -> list[str]:
        """The columns ``words`` is made of, in the table's order."""
        names = {e.name for e in visitors.iterate(self.words) if isinstance(e, Column)}
        return [c.name for c in self.table.columns if c.name in names]

    def statements(self) -> list[str]:
        """The SQLite DDL of the index: the FTS5 table and the triggers keeping it in step."""
        return sqlite_statements(
            self.fts,
            self.table.name,
            ["id", *self.columns],
            self.words_of("new"),
            self.words_of("old"),
        )


def sqlite_statements(fts: str, base: str, columns: list[str], new: str, old: str) -> list[str]:
    """An FTS5 table ``fts`` indexing, under each row's id, the words of ``base`` that the
    SQL ``new`` (over ``new.``) and ``old`` (over ``old.``) make of a row, kept in step by
    AFTER INSERT, DELETE and UPDATE (of ``columns``) triggers. It stores no text
    (``content=''``): a row's entry is taken out with the very words it was put in with."""
    put = f"INSERT INTO {fts}(rowid, words) VALUES (new.id, {new});"
    take = f"INSERT INTO {fts}({fts}, rowid, words) VALUES ('delete', old.id, {old});"
    of = ", ".join(columns)
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(words, content='', tokenize='{TOKENIZER}')",
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {base} BEGIN {put} END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {of} ON {base} BEGIN {take} {put} END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {base} BEGIN {take} END",
    ]


DECLARED: dict[str, Searched] = {}
# By the very object `index` was given (``Answer.text``, a module's ``WORDS``), which the
# searches pass again: found without compiling it. `DECLARED` holds it, so its id stays its.
_GIVEN: dict[int, tuple[Any, Searched]] = {}
_INDEX_TABLE = re.compile(r"\w+_fts(?:_(?:data|idx|docsize|config|content))?")
_SQLITE = sqlite.dialect()


def _key(words: Any) -> str:
    if hasattr(words, "__clause_element__"):
        words = words.__clause_element__()
    return str(words.compile(dialect=_SQLITE))


def _table_of(words: ColumnElement[Any]) -> Table:
    tables = {e.table for e in visitors.iterate(words) if isinstance(e, Column)}
    if len(tables) != 1:
        raise ValueError(f"a searched document is of one table, not {len(tables)}")
    (found,) = tables
    if not isinstance(found, Table) or [c.name for c in found.primary_key] != ["id"]:
        raise ValueError(f"{found} must be a table whose primary key is its integer id")
    return found


def index(name: str, words: Any) -> Index:
    """Declare ``words`` searched: a GIN index of ``vector(words)`` on PostgreSQL, and on
    SQLite the FTS5 table ``name`` without its ``ix_`` with its triggers (`Searched`)."""
    element = words.__clause_element__() if hasattr(words, "__clause_element__") else words
    searched = Searched(name.removeprefix("ix_"), _table_of(element), element)
    if not searched.fts.endswith("_fts"):
        raise ValueError(f"a full-text index is named ix_<table>_fts, not {name}")
    if searched.fts in DECLARED or any(s.key == searched.key for s in DECLARED.values()):
        raise ValueError(f"{searched.fts} ({searched.key}) is declared twice")
    DECLARED[searched.fts] = searched
    _GIVEN[id(words)] = (words, searched)
    for statement in searched.statements():
        event.listen(searched.table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    event.listen(
        searched.table,
        "before_drop",
        DDL(f"DROP TABLE IF EXISTS {searched.fts}").execute_if(dialect="sqlite"),
    )
    return Index(name, vector(words), postgresql_using="gin").ddl_if(dialect="postgresql")


def searched(words: Any) -> Searched | None:
    """The declaration of ``words``, if `index` declared it (the same object, or the same
    SQL)."""
    given = _GIVEN.get(id(words))
    if given is not None and given[0] is words:
        return given[1]
    key = _key(words)
    return next((s for s in DECLARED.values() if s.key == key), None)


def is_index_table(name: str) -> bool:
    """Whether ``name`` is one of the tables SQLite keeps an FTS5 index of ours in: the
    ``…_fts`` table itself or one of its shadow tables. They are no model's: schema
    comparisons leave them out, and the tests hold them to `DECLARED`."""
    return _INDEX_TABLE.fullmatch(name) is not None


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic's filter for comparing a database with the models: SQLite's full-text tables
    are left out, being declared by `index` rather than as models, and made by hand-written
    revisions."""
    return not (type_ == "table" and name is not None and is_index_table(name))


def phrase(term: str, *, prefix: bool = False) -> str:
    """``term`` as one FTS5 string, meaning its words and nothing else: operators, column
    filters and quotes inside it are words or nothing (a quote is doubled; NUL, which ends
    a query early, is a separator like any other). ``prefix`` matches words it begins."""
    quoted = '"' + term.replace("\x00", " ").replace('"', '""') + '"'
    return quoted + "*" if prefix else quoted


def match(words: Any, query: str) -> ColumnElement[bool]:
    """On SQLite, that the row of ``words`` (declared by `index`, or its `Searched`)
    matches the FTS5 ``query``: ``<table>.id IN (SELECT rowid FROM <fts> WHERE <fts> MATCH
    :query)``."""
    found = words if isinstance(words, Searched) else searched(words)
    if found is None:
        raise LookupError(f"no full-text index is declared for {_key(words)}")
    fts = table(found.fts, column("rowid"))
    hits = select(fts.c.rowid).where(literal_column(found.fts).op("MATCH")(literal(query)))
    return found.table.c.id.in_(hits)
