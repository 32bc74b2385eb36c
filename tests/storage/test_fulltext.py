"""`ask` searches by index, not by reading every row: PostgreSQL through GIN indexes of the
very expressions its queries hold (revision 0015), SQLite through an FTS5 table of each of
them kept in step by triggers (revision 0017), both from one `fulltext.index` declaration."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, insert, inspect, select, text
from sqlalchemy.engine import Connection

from bot.kinds import registry
from rituals.backlog.models import BacklogChange, BacklogItem
from rituals.llm.search import recall_of
from storage import fulltext
from storage.db import Database
from storage.models import Answer, Base, Channel, Ritual
from tests.helpers import Team, person
from tests.storage.test_migration_0004 import _to, empty_db

__all__ = ["empty_db"]

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ANA = person("ana", name="Ana")
FULLTEXT = {
    "answer": "ix_answer_fts",
    "retro_item": "ix_retro_item_fts",
    "hypothesis": "ix_hypothesis_fts",
    "hypothesis_point": "ix_hypothesis_point_fts",
    "alert": "ix_alert_fts",
    "backlog_item": "ix_backlog_item_fts",
    "backlog_change": "ix_backlog_change_fts",
}
ITEMS = 3000


async def fulltext_indexes(db: Database) -> dict[str, str]:
    """Each full-text index with its definition, as the database has it."""
    async with db.engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            found = await conn.run_sync(
                lambda c: {
                    i["name"]
                    for table in inspect(c).get_table_names()
                    for i in inspect(c).get_indexes(table)
                }
            )
            return {name: "" for name in found if name and name.endswith("_fts")}
        rows = await conn.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'ix_%_fts'")
        )
        return dict(rows.tuples().all())


async def test_postgresql_has_a_gin_index_for_every_text_ask_searches(db: Database) -> None:
    found = await fulltext_indexes(db)

    if db.engine.dialect.name == "sqlite":
        assert found == {}
        return
    assert set(found) == set(FULLTEXT.values())
    for table, name in FULLTEXT.items():
        assert f"ON public.{table} USING gin (to_tsvector('english'::regconfig" in found[name]


def _normal(sql: str) -> str:
    """DDL compared as words: SQLAlchemy parenthesizes ``a || ' ' || b``, a migration may not."""
    return " ".join(sql.replace("(", " ").replace(")", " ").split())


def sqlite_fulltext(conn: Connection) -> dict[str, str]:
    """Each FTS5 table and trigger the database has (their shadow tables aside), by name."""
    rows = conn.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "OR (type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%')"
        )
    )
    return {name: _normal(sql) for name, sql in rows.tuples()}


def declared() -> dict[str, str]:
    """What `fulltext.index` declares for SQLite: each FTS5 table and its triggers."""
    found = {}
    for searched in fulltext.DECLARED.values():
        for statement in searched.statements():
            # CREATE TRIGGER <name> … or CREATE VIRTUAL TABLE <name> …
            found[statement.split()[2 if "TRIGGER" in statement else 3]] = _normal(statement)
    return found


async def test_sqlite_has_an_fts5_table_and_its_triggers_for_every_text_ask_searches(
    sqlite_db: Database,
) -> None:
    assert set(fulltext.DECLARED) == {name.removeprefix("ix_") for name in FULLTEXT.values()}
    assert {s.table.name for s in fulltext.DECLARED.values()} == set(FULLTEXT)

    async with sqlite_db.engine.connect() as conn:
        found = await conn.run_sync(sqlite_fulltext)

    # What the migrations made is what the models declare, statement by statement.
    assert found == declared()
    assert len(found) == 4 * len(FULLTEXT)


def test_create_all_makes_the_same_fulltext_tables_as_the_migrations(
    sqlite_template: Path,
) -> None:
    """Nothing in the tests builds its schema with `create_all`, but whoever does gets the
    full-text tables and triggers the migrations make, and they work."""
    made = create_engine("sqlite://")
    migrated = create_engine(f"sqlite:///{sqlite_template}")
    try:
        with made.begin() as conn:
            Base.metadata.create_all(conn)
            conn.execute(text("INSERT INTO retro_item_fts(rowid, words) VALUES (7, 'x')"))
            conn.execute(
                text(
                    "INSERT INTO retro_item_fts(retro_item_fts, rowid, words) "
                    "VALUES ('delete', 7, 'x')"
                )
            )
            assert sqlite_fulltext(conn) == declared()
        with migrated.connect() as conn:
            assert sqlite_fulltext(conn) == declared()
        with made.begin() as conn:
            Base.metadata.drop_all(conn)
            assert sqlite_fulltext(conn) == {}
    finally:
        made.dispose()
        migrated.dispose()


def test_a_declaration_names_one_table_once() -> None:
    before = dict(fulltext.DECLARED)
    with pytest.raises(ValueError, match="ix_<table>_fts"):
        fulltext.index("ix_answer_words", Answer.question)
    with pytest.raises(ValueError, match="of one table"):
        fulltext.index("ix_mixed_fts", fulltext.document(Answer.question, Channel.name))
    with pytest.raises(ValueError, match="declared twice"):
        fulltext.index("ix_answer_fts", Answer.text)
    with pytest.raises(ValueError, match="declared twice"):
        fulltext.index("ix_answer_text_fts", Answer.text)
    assert before == fulltext.DECLARED
    assert fulltext.searched(Answer.text) is fulltext.DECLARED["answer_fts"]
    assert fulltext.searched(Answer.__table__.c.text) is fulltext.DECLARED["answer_fts"]
    assert fulltext.searched(Answer.question) is None


async def test_a_downgrade_drops_them_and_an_upgrade_makes_them_again(
    empty_db: Database,
) -> None:
    sqlite = empty_db.engine.dialect.name == "sqlite"
    await empty_db.upgrade()
    await _to(empty_db, "0014", down=True)
    assert await fulltext_indexes(empty_db) == {}
    if sqlite:
        async with empty_db.engine.connect() as conn:
            assert await conn.run_sync(sqlite_fulltext) == {}
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            assert not [t for t in tables if "_fts" in t]

    await empty_db.upgrade()

    made = set(await fulltext_indexes(empty_db))
    assert made == (set(FULLTEXT.values()) if not sqlite else set())
    if sqlite:
        async with empty_db.engine.connect() as conn:
            assert await conn.run_sync(sqlite_fulltext) == declared()


# --- the planner uses them -----------------------------------------------------------------


def sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime | date):
        return f"'{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


async def searches(db: Database, run: Callable[[], Awaitable[object]]) -> list[tuple[str, Any]]:
    """The full-text statements ``run`` sent, with their parameters."""
    sent: list[tuple[str, Any]] = []

    def record(_c: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if "to_tsvector" in statement:
            sent.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        await run()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    return sent


async def plans(db: Database, statement: str, parameters: Any) -> tuple[str, str]:
    """The plan for these parameters, and the generic plan a prepared statement settles on
    after its fifth run: an index on an expression whose configuration were a parameter
    would serve the first and never the second."""
    async with db.engine.connect() as conn:
        await conn.execute(text("SET enable_seqscan = off"))
        custom = await conn.exec_driver_sql(f"EXPLAIN {statement}", tuple(parameters))
        await conn.exec_driver_sql(f"PREPARE recall AS {statement}")
        await conn.execute(text("SET plan_cache_mode = force_generic_plan"))
        values = ", ".join(sql_literal(v) for v in parameters)
        generic = await conn.exec_driver_sql(f"EXPLAIN EXECUTE recall({values})")
        await conn.exec_driver_sql("DEALLOCATE recall")
        return (
            "\n".join(row[0] for row in custom.all()),
            "\n".join(row[0] for row in generic.all()),
        )


async def test_the_backlog_recall_query_is_planned_on_its_fulltext_indexes(pg_db: Database) -> None:
    pg = pg_db
    team = Team(pg, MONDAY)
    await team.type(ANA, "backlog add Retrain the ranker on vendor labels")
    async with pg.session() as session:
        ritual = (
            await session.execute(select(Ritual).where(Ritual.kind == "backlog"))
        ).scalar_one()
        filler = [
            {
                "ritual_id": ritual.id,
                "number": n,
                "type": "feature",
                "priority": 2,
                "state": "open",
                "phase": "open",
                "title": f"Chore number {n} for the pipeline",
                "description": "",
                "link": "",
                "created_at": MONDAY - timedelta(minutes=n),
                "updated_at": MONDAY - timedelta(minutes=n),
            }
            for n in range(2, ITEMS + 2)
        ]
        await session.execute(insert(BacklogItem), filler)
        ids = (await session.execute(select(BacklogItem.id))).scalars().all()
        await session.execute(
            insert(BacklogChange),
            [{"item_id": i, "what": "filed", "at": MONDAY, "member_id": None} for i in ids],
        )
    async with pg.engine.connect() as conn:
        await conn.execute(text("ANALYZE backlog_item"))
        await conn.execute(text("ANALYZE backlog_change"))
        await conn.commit()
    backlog = registry().bind(team.runtime)["backlog"]
    found: list[object] = []

    async def ask() -> None:
        async with pg.session() as session:
            channel = await session.get_one(Channel, ritual.channel_id)
            query = recall_of("what happened to the ranker last month?", MONDAY.date())
            found.extend(await backlog.recall(session, channel, query, 12))

    sent = await searches(pg, ask)

    assert len(found) == 1
    by_items, by_history = sent
    for statement, parameters in sent:
        for plan in await plans(pg, statement, parameters):
            assert "Bitmap Index Scan on ix_backlog_" in plan, plan
    assert "ix_backlog_item_fts" in (await plans(pg, *by_items))[1]
    assert "ix_backlog_change_fts" in (await plans(pg, *by_history))[1]
