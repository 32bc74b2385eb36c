"""SQLite statements through our driver: the same results SQLAlchemy's own aiosqlite adapter
gives, run in the event loop's thread unless they would hold it up."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from storage import sqlite_driver
from storage.db import Database
from storage.models import Workspace

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every hand-off to aiosqlite's thread, by what it ran."""
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield seen


def _workspace(n: int) -> dict[str, Any]:
    return {"platform": "slack", "external_id": f"T{n}", "created_at": NOW}


async def test_a_small_select_runs_in_the_loops_own_thread(
    sqlite_db: Database, trips: list[str]
) -> None:
    async with sqlite_db.session() as session:
        session.add(Workspace(**_workspace(1)))
    async with sqlite_db.engine.connect() as connection:
        trips.clear()
        rows = (await connection.execute(select(Workspace.external_id))).all()
        assert trips == []
    assert rows == [("T1",)]


async def test_a_statement_locked_out_by_another_process_waits_in_the_thread_not_the_loop(
    sqlite_db: Database, trips: list[str]
) -> None:
    other = sqlite3.connect(sqlite_db.engine.url.database or "", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's write, holding the file's lock
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    asyncio.get_running_loop().call_later(0.3, other.execute, "COMMIT")
    try:
        async with sqlite_db.engine.begin() as connection:
            await connection.execute(insert(Workspace).values(**_workspace(1)))
    finally:
        ticker.cancel()
        other.close()
    assert "_waiting" in trips
    assert ticks >= 10  # the loop went on while the statement waited
    async with sqlite_db.engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(Workspace)) == 1


async def test_sql_that_ran_long_twice_goes_to_the_thread_from_then_on(
    sqlite_db: Database, trips: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "_SLOW", set())
    monkeypatch.setattr(sqlite_driver, "_LONG_ONCE", set())
    monkeypatch.setattr(sqlite_driver, "INLINE_AT_MOST", -1.0)
    query = select(Workspace.id).where(Workspace.external_id == "T1")
    async with sqlite_db.engine.connect() as connection:
        trips.clear()
        await connection.execute(query)
        await connection.execute(query)
        assert trips == []
        await connection.execute(query)
        assert trips == ["_waiting"]


async def test_rows_counts_and_new_ids_come_back_as_sqlalchemy_expects(
    sqlite_db: Database,
) -> None:
    async with sqlite_db.engine.begin() as connection:
        many = await connection.execute(insert(Workspace), [_workspace(n) for n in range(5)])
        assert many.rowcount == 5
        one = await connection.execute(insert(Workspace).values(**_workspace(9)))
        assert one.inserted_primary_key is not None and one.inserted_primary_key[0] == 6
        changed = await connection.execute(
            update(Workspace).where(Workspace.id > 3).values(name="late")
        )
        assert changed.rowcount == 3
        assert await connection.scalar(select(func.count()).select_from(Workspace)) == 6
        nothing = await connection.execute(select(Workspace).where(Workspace.id < 0))
        assert nothing.all() == []


async def test_a_failing_statement_raises_sqlalchemys_error_and_writes_nothing(
    sqlite_db: Database,
) -> None:
    async with sqlite_db.engine.begin() as connection:
        await connection.execute(insert(Workspace).values(**_workspace(1)))
    with pytest.raises(IntegrityError):
        async with sqlite_db.engine.begin() as connection:
            await connection.execute(insert(Workspace).values(**_workspace(2)))
            await connection.execute(insert(Workspace).values(**_workspace(1)))
    with pytest.raises(OperationalError, match="no such table"):
        async with sqlite_db.engine.connect() as connection:
            await connection.execute(text("SELECT * FROM no_such_table"))
    async with sqlite_db.engine.connect() as connection:
        names = (await connection.scalars(select(Workspace.external_id))).all()
    assert names == ["T1"]


async def test_server_side_results_still_stream(sqlite_db: Database) -> None:
    async with sqlite_db.engine.begin() as connection:
        await connection.execute(insert(Workspace), [_workspace(n) for n in range(300)])
    async with sqlite_db.engine.connect() as connection:
        stream = await connection.stream(select(Workspace.id).order_by(Workspace.id))
        seen = [row.id async for row in stream]
    assert seen == list(range(1, 301))


async def test_a_unit_of_work_that_only_read_ends_without_a_trip(
    sqlite_db: Database, trips: list[str]
) -> None:
    async with sqlite_db.session() as session:  # the pool's connection, opened once
        await session.execute(select(Workspace.id))
    trips.clear()
    async with sqlite_db.session() as session:
        await session.execute(select(Workspace.id))
    assert trips == []
    async with sqlite_db.session() as session:
        session.add(Workspace(**_workspace(1)))
    assert trips == ["_end"]
    async with sqlite_db.session() as session:
        assert (await session.execute(select(Workspace.external_id))).scalars().all() == ["T1"]


async def test_searches_and_fan_outs_go_to_the_thread_before_they_ever_run_long(
    sqlite_db: Database, trips: list[str]
) -> None:
    rows = [_workspace(n) for n in range(sqlite_driver.FAN_OUT_ROWS + 1)]
    async with sqlite_db.engine.begin() as connection:
        trips.clear()
        await connection.execute(insert(Workspace), rows[:2])
        assert trips == []
        await connection.execute(insert(Workspace).prefix_with("OR IGNORE"), rows)
        assert trips == ["_waiting"]
        trips.clear()
        await connection.exec_driver_sql("CREATE VIRTUAL TABLE notes USING fts5(body)")
        await connection.exec_driver_sql("INSERT INTO notes (body) VALUES ('drift in ranker')")
        assert trips == []
        found = await connection.exec_driver_sql(
            "SELECT body FROM notes WHERE notes MATCH 'ranker'"
        )
        assert found.all() == [("drift in ranker",)]
        assert trips == ["_waiting"]


def test_in_lists_of_any_length_are_one_statement_to_remember() -> None:
    three = "SELECT t.id FROM t WHERE t.id IN (?, ?, ?) AND t.b = ?"
    two = "SELECT t.id FROM t WHERE t.id IN (?, ?) AND t.b = ?"
    assert sqlite_driver._key(three) == sqlite_driver._key(two)
    assert sqlite_driver._key(two) != sqlite_driver._key("SELECT t.id FROM u WHERE u.id IN (?, ?)")
