"""Units of work: on SQLite they take turns in the process; nested ones do not wait."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from structlog.testing import capture_logs

from storage.db import BatchBroken, Database, before_commit
from storage.models import InboundEvent

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


async def test_units_of_work_take_turns_on_sqlite_and_overlap_on_postgresql(
    db: Database,
) -> None:
    events: list[str] = []
    first_inside = asyncio.Event()

    async def first() -> None:
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
            events.append("first begins")
            first_inside.set()
            await asyncio.sleep(0.05)
            events.append("first ends")

    async def second() -> None:
        await first_inside.wait()
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
            events.append("second begins")

    await asyncio.gather(first(), second())
    if db.dialect == "sqlite":
        assert events == ["first begins", "first ends", "second begins"]
    else:
        assert events == ["first begins", "second begins", "first ends"]


async def test_a_unit_of_work_opened_inside_another_goes_ahead(db: Database) -> None:
    async with db.session() as outer:
        await outer.execute(text("SELECT 1"))
        async with asyncio.timeout(5), db.session() as inner:
            assert (await inner.execute(text("SELECT 2"))).scalar_one() == 2


async def test_a_task_started_inside_a_unit_of_work_does_not_wait_for_it(db: Database) -> None:
    async def child() -> int:
        async with db.session() as session:
            return (await session.execute(text("SELECT 3"))).scalar_one()

    async with db.session() as session:
        await session.execute(text("SELECT 1"))
        assert await asyncio.wait_for(asyncio.create_task(child()), 5) == 3


async def test_a_task_started_inside_a_unit_of_work_takes_turns_after_it_ends(
    sqlite_db: Database,
) -> None:
    db = sqlite_db
    overlap: list[str] = []
    inside = asyncio.Event()
    go = asyncio.Event()

    async def background() -> None:  # e.g. a lazily started worker
        await go.wait()
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
            overlap.append("background inside" if inside.is_set() else "background alone")

    async with db.session() as session:
        await session.execute(text("SELECT 1"))
        task = asyncio.create_task(background())

    async def other() -> None:
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
            inside.set()
            go.set()
            await asyncio.sleep(0.05)
            inside.clear()

    await asyncio.wait_for(asyncio.gather(other(), task), 5)
    assert overlap == ["background alone"]


async def _events(db: Database) -> list[str]:
    async with db.session() as session:
        rows = await session.execute(
            text("SELECT delivery_id FROM inbound_event ORDER BY delivery_id")
        )
        return list(rows.scalars())


async def _record(db: Database, delivery: str) -> None:
    async with db.session() as session:
        await session.execute(
            text(
                "INSERT INTO inbound_event (platform, delivery_id, received_at) "
                "VALUES ('test', :d, CURRENT_TIMESTAMP)"
            ),
            {"d": delivery},
        )


async def test_a_batch_steps_out_for_a_platform_call_without_holding_the_database(
    db: Database,
) -> None:
    """Inside `outside()` what the batch wrote is committed, others may write (the door
    is never held behind a slow platform call), and the batch then goes on."""
    seen_outside: list[str] = []
    async with db.batch():
        await _record(db, "before")
        async with db.outside():
            other = asyncio.create_task(_record(db, "door"))
            await asyncio.wait_for(other, 5)
            seen_outside = await _events(db)
        await _record(db, "after")
    assert seen_outside == ["before", "door"]
    assert await _events(db) == ["after", "before", "door"]


async def test_a_batch_that_fails_after_stepping_out_keeps_only_what_was_committed(
    db: Database,
) -> None:
    woken: list[str] = []
    try:
        async with db.batch():
            await _record(db, "before")
            db.after_commit(lambda: woken.append("before"))
            async with db.outside():
                pass
            await _record(db, "after")
            db.after_commit(lambda: woken.append("after"))
            raise RuntimeError("poisoned")
    except RuntimeError:
        pass
    assert await _events(db) == ["before"]
    assert woken == ["before"]


async def test_a_step_after_the_commit_waits_for_its_batch_and_is_dropped_with_it(
    db: Database,
) -> None:
    """What a unit of work sets going runs on what it committed: inside a batch, once the
    batch commits, and never if the batch rolls back (its retry sets it going again)."""
    seen: list[list[str]] = []

    async def look() -> None:
        seen.append(await _events(db))

    async with db.batch():
        await _record(db, "one")
        await db.when_committed(look)
        assert seen == []
    assert seen == [["one"]]

    with pytest.raises(RuntimeError):
        async with db.batch():
            await _record(db, "two")
            await db.when_committed(look)
            raise RuntimeError("poisoned")
    assert seen == [["one"]]

    await db.when_committed(look)  # outside a batch: at once
    assert seen == [["one"], ["one"]]


async def test_steps_of_a_batch_run_when_it_steps_out_and_one_that_fails_stops_no_other(
    db: Database,
) -> None:
    """Work committed when a batch steps out for a platform call stands even if the batch
    later fails, so its steps run then; a failing step is logged, the next still runs."""
    ran: list[str] = []

    async def fails() -> None:
        raise RuntimeError("the summary could not be written")

    async def notes() -> None:
        ran.append("noted")

    with capture_logs() as events, pytest.raises(RuntimeError, match="poisoned"):
        async with db.batch():
            await _record(db, "before")
            await db.when_committed(fails)
            await db.when_committed(notes)
            async with db.outside():
                assert ran == ["noted"]
            raise RuntimeError("poisoned")
    assert await _events(db) == ["before"]
    assert ran == ["noted"]
    assert [e["event"] for e in events if e["log_level"] == "error"] == [
        "a step after a commit failed"
    ]


async def _backend(db: Database) -> int:
    return (await _backend_and_driver(db))[0]


async def _backend_and_driver(db: Database) -> tuple[int, Any]:
    """The server's pid for a pooled connection and the driver's connection behind it."""
    async with db.session() as session:
        pid = int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        raw = await (await session.connection()).get_raw_connection()
        return pid, raw.driver_connection


async def _until_seen_closed(driver: Any) -> None:
    """The server's farewell and its close reach the client in separate reads; between
    them the connection is neither usable nor known closed, so wait out that gap."""
    for _ in range(250):
        if driver.is_closed():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the client never saw the server close the connection")


async def _terminate(db: Database, pid: int) -> None:
    """Close one of ``db``'s connections from the server's side, as a restart would."""
    other = create_async_engine(db.url, poolclass=NullPool)
    try:
        async with other.connect() as conn:
            await conn.execute(text(f"SELECT pg_terminate_backend({pid})"))
            for _ in range(100):
                gone = text(f"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}")
                if not (await conn.execute(gone)).scalar_one():
                    return
                await asyncio.sleep(0.02)
    finally:
        await other.dispose()


async def test_a_connection_the_server_closed_is_replaced_before_use(pg_db: Database) -> None:
    """A pooled connection the server closed (a restart) is known closed when it is next
    taken, without a round trip, and replaced: the unit of work on it goes through."""
    pg_db.ping_after = 3600
    first, driver = await _backend_and_driver(pg_db)
    await _terminate(pg_db, first)
    await _until_seen_closed(driver)
    assert await _backend(pg_db) != first


async def test_a_pooled_connection_is_tried_before_use_only_after_sitting_idle(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trying a connection costs a round trip: one handed back a moment ago goes out
    untried, one idle for longer than `ping_after` is tried first."""
    dialect = pg_db.engine.dialect
    tried: list[object] = []
    ping = dialect.do_ping

    def noting(connection: object) -> bool:
        tried.append(connection)
        return ping(connection)

    monkeypatch.setattr(dialect, "do_ping", noting)
    await _backend(pg_db)  # a new connection
    await _backend(pg_db)  # the same, just handed back
    assert tried == []
    pg_db.ping_after = 0
    await _backend(pg_db)
    assert len(tried) == 1


async def test_steps_with_one_key_run_once_per_batch(db: Database) -> None:
    ran: list[str] = []

    async def note(what: str) -> None:
        ran.append(what)

    async with db.batch():
        await db.when_committed(lambda: note("summary"), ("close", 1))
        await db.when_committed(lambda: note("summary again"), ("close", 1))
        await db.when_committed(lambda: note("another run"), ("close", 2))
    await db.when_committed(lambda: note("alone"), ("close", 1))
    assert ran == ["summary", "another run", "alone"]


async def test_a_batch_that_stepped_out_and_failed_there_is_still_one_batch(
    db: Database,
) -> None:
    """A step-out that raised (a caller may catch it and go on) leaves the batch in charge
    of what follows: written after it, rolled back with it."""

    def wake() -> None:
        raise RuntimeError("wake failed")

    with pytest.raises(RuntimeError, match="poisoned"):
        async with db.batch():
            await _record(db, "before")
            db.after_commit(wake)
            with pytest.raises(RuntimeError, match="wake failed"):
                async with db.outside():
                    pass
            await _record(db, "after")
            raise RuntimeError("poisoned")
    assert await _events(db) == ["before"]


async def test_a_batch_whose_step_out_could_not_commit_rolls_back_whole(db: Database) -> None:
    """What a batch gathered for its commit could not be written when it stepped out: the
    step out fails, and even if its caller goes on the batch does not commit the rest."""

    async def refuse(_session: object) -> None:
        raise RuntimeError("what was gathered cannot be written")

    with pytest.raises(BatchBroken):
        async with db.batch():
            await _record(db, "before the step out")
            async with db.session() as session:
                before_commit(session, "refused", refuse)
            with contextlib.suppress(RuntimeError):
                async with db.outside():
                    pass
    assert await _events(db) == []


async def test_a_single_statement_unit_is_its_own_transaction_on_postgresql(
    db: Database,
) -> None:
    """`single()`: on PostgreSQL the statement commits as it runs, no transaction begun
    around it, so another connection sees it before the block ends, and the connection goes
    back to the pool transactional again; elsewhere it is an ordinary unit of work."""
    async with db.single() as session:
        await session.execute(
            text(
                "INSERT INTO inbound_event (platform, delivery_id, received_at) "
                "VALUES ('test', 'single', CURRENT_TIMESTAMP)"
            )
        )
        lent = (await (await session.connection()).get_raw_connection()).dbapi_connection
        if db.dialect == "postgresql":
            assert not lent._started, "no BEGIN was sent"
            assert await _events(db) == ["single"]
    assert await _events(db) == ["single"]
    if db.dialect == "postgresql":
        assert not lent.autocommit


async def test_what_a_single_statement_unit_adds_to_its_session_is_stored(db: Database) -> None:
    """Objects added and hooks set before the commit are flushed and run as in any unit."""
    async with db.single() as session:
        session.add(InboundEvent(platform="test", delivery_id="added", received_at=NOW))
    assert await _events(db) == ["added"]


async def test_a_single_statement_unit_inside_a_batch_joins_it(db: Database) -> None:
    with pytest.raises(RuntimeError, match="the batch fails"):
        async with db.batch():
            async with db.single() as session:
                await session.execute(
                    text(
                        "INSERT INTO inbound_event (platform, delivery_id, received_at) "
                        "VALUES ('test', 'joined', CURRENT_TIMESTAMP)"
                    )
                )
            raise RuntimeError("the batch fails")
    assert await _events(db) == []
