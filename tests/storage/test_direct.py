"""Statements handed straight to the driver do what SQLAlchemy does, inside the same unit
of work: its types converted both ways, its literals and fixed defaults bound, a value used
twice bound twice; what they write rolls back with the unit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Date, bindparam, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import direct
from storage.db import Database
from storage.models import Member, Occurrence, Ritual, Workspace
from tests.helpers import statements

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


async def seeded(db: Database) -> None:
    async with db.session() as session:
        workspace = Workspace(platform="test", external_id="W1", name="", created_at=NOW)
        session.add(workspace)
        await session.flush()
        session.add_all(
            [
                Member(workspace_id=workspace.id, external_id="U1", name="Ana", tz="UTC"),
                Member(
                    workspace_id=workspace.id,
                    external_id="U2",
                    name="",
                    tz="Asia/Tokyo",
                    away_since=date(2026, 11, 30),
                ),
            ]
        )


def people() -> Any:
    return (
        select(
            Member.external_id,
            func.coalesce(func.nullif(Member.name, ""), Member.external_id),
            Member.away_since,
            Workspace.created_at,
        )
        .join(Workspace, Workspace.id == Member.workspace_id)
        .where(
            Workspace.platform == "test",
            Workspace.created_at >= bindparam("since"),
            (Member.away_since.is_(None)) | (Member.away_since <= bindparam("day", type_=Date)),
            (Member.tz != bindparam("not_tz"))
            | Member.away_since.is_(None)
            | (Member.away_since < bindparam("day")),
        )
        .order_by(Member.external_id)
    )


async def test_a_read_gives_the_rows_sqlalchemy_gives(db: Database) -> None:
    await seeded(db)
    values = {"since": NOW - timedelta(days=1), "day": date(2026, 12, 1), "not_tz": "UTC"}
    async with db.session() as session:
        fast = await direct.rows(session, ("test people", 1), people, values)
        slow = [tuple(row) for row in await session.execute(people(), values)]
    assert fast == slow
    assert fast == [
        ("U1", "Ana", None, NOW),
        ("U2", "U2", date(2026, 11, 30), NOW),
    ]
    assert fast[0][3].tzinfo is not None, "instants come back aware, as the column type says"


async def test_what_watches_the_engine_sees_a_read_run(db: Database) -> None:
    await seeded(db)
    count = lambda: select(func.count()).select_from(Member)  # noqa: E731
    with statements(db) as ran:
        async with db.session() as session:
            assert await direct.rows(session, ("test members", 1), count, {}) == [(2,)]
    assert len(ran) == 1 and "count(*)" in ran[0]


async def test_a_read_sees_what_its_unit_of_work_changed_and_not_yet_committed(
    db: Database,
) -> None:
    await seeded(db)
    query = lambda: select(Member.name).where(Member.external_id == bindparam("user"))  # noqa: E731
    async with db.session() as session:
        member = (
            await session.execute(select(Member).where(Member.external_id == "U1"))
        ).scalar_one()
        member.name = "Ana María"  # pending in the session, flushed before the read
        assert await direct.rows(session, ("test name", 1), query, {"user": "U1"}) == [
            ("Ana María",)
        ]
        await session.execute(text("UPDATE member SET tz = 'Europe/Madrid'"))
        tz = lambda: select(Member.tz).where(Member.external_id == "U1")  # noqa: E731
        assert await direct.rows(session, ("test tz", 1), tz, {}) == [("Europe/Madrid",)]
        await session.rollback()
    async with db.session() as session:
        assert await direct.rows(session, ("test name", 1), query, {"user": "U1"}) == [("Ana",)]


async def test_a_read_first_in_its_unit_of_work_runs_inside_its_transaction(
    pg_db: Database,
) -> None:
    """On PostgreSQL the transaction begins with the first statement: a read that comes
    first begins it, so what the unit writes next is still one transaction with it."""
    await seeded(pg_db)
    count = lambda: select(func.count()).select_from(Ritual)  # noqa: E731
    with pytest.raises(RuntimeError):
        async with pg_db.session() as session:
            assert await direct.rows(session, ("test rituals", 1), count, {}) == [(0,)]
            await session.execute(text("UPDATE member SET name = 'changed'"))
            raise RuntimeError("the unit fails after writing")
    async with pg_db.session() as session:
        names = await session.execute(select(Member.name).order_by(Member.external_id))
        assert list(names.scalars()) == ["Ana", ""]


@pytest.mark.parametrize(
    ("key", "build", "values", "error", "match"),
    [
        (
            ("test missing", 1),
            lambda: select(Member.id).where(Member.external_id == bindparam("user")),
            {},
            KeyError,
            "user",
        ),
        (
            ("test expanding", 1),
            lambda: select(Occurrence.id).where(Occurrence.id.in_(bindparam("ids"))),
            {"ids": [1, 2]},
            ValueError,
            "expanding",
        ),
    ],
    ids=["a missing value", "an expanding list"],
)
async def test_a_statement_it_cannot_run_as_given_is_refused_before_anything_runs(
    db: Database,
    key: tuple[str, int],
    build: Any,
    values: dict[str, Any],
    error: type[Exception],
    match: str,
) -> None:
    async with db.session() as session:
        with pytest.raises(error, match=match):
            await direct.rows(session, key, build, values)


@pytest.fixture
async def own_pool(pg_db: Database) -> AsyncIterator[Database]:
    """A database handle with a pool of its own, so which connection comes back is known."""
    db = Database(pg_db.url)
    try:
        yield db
    finally:
        await db.dispose()


async def backend_of(session: AsyncSession) -> int:
    select_pid = lambda: select(func.pg_backend_pid())  # noqa: E731
    ((pid,),) = await direct.rows(session, ("test backend", 1), select_pid, {})
    return int(pid)


async def sleep_in(session: AsyncSession, seconds: float) -> None:
    sleeping = lambda: select(func.pg_sleep(bindparam("seconds")))  # noqa: E731
    await direct.rows(session, ("test sleep", 1), sleeping, {"seconds": seconds})


async def test_a_read_cut_off_half_way_throws_its_connection_away(own_pool: Database) -> None:
    """A request whose time ran out mid-read leaves no statement running on, and no
    transaction half begun in, a connection the pool would hand out again."""
    async with own_pool.session() as session:
        before = await backend_of(session)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2), own_pool.session() as session:
            await sleep_in(session, 5)
    async with own_pool.session() as session:
        assert await backend_of(session) != before


async def test_a_read_whose_connection_is_lost_says_so(own_pool: Database, pg_db: Database) -> None:
    async def read_while_terminated() -> None:
        async with own_pool.session() as session:
            pid = await backend_of(session)
            asyncio.get_running_loop().call_later(
                0.2, lambda: asyncio.ensure_future(terminate(pid))
            )
            await sleep_in(session, 5)

    async def terminate(pid: int) -> None:
        async with pg_db.session() as session:
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    with pytest.raises(DBAPIError) as raised:
        await asyncio.wait_for(read_while_terminated(), 5)
    assert raised.value.connection_invalidated
    assert isinstance(raised.value.orig.__cause__, asyncpg.exceptions.ConnectionDoesNotExistError)
    async with own_pool.session() as session:
        assert await backend_of(session) > 0


async def test_a_write_returns_what_it_names_and_rolls_back_with_its_unit(db: Database) -> None:
    await seeded(db)
    table = Member.__table__
    add = lambda: (  # noqa: E731
        table.insert()
        .values(workspace_id=bindparam("ws"), external_id=bindparam("user"), name="", tz="UTC")
        .returning(table.c.id, table.c.away_since)
    )
    rename = lambda: table.update().values(name=bindparam("name"))  # noqa: E731
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            ((new_id, away),) = await direct.rows(
                session, ("test add", 1), add, {"ws": 1, "user": "U3"}
            )
            assert (new_id, away) == (3, None)
            assert await direct.rows(session, ("test rename", 1), rename, {"name": "x"}) == []
            names = await session.execute(select(Member.name).order_by(Member.id))
            assert list(names.scalars()) == ["x", "x", "x"]
            raise RuntimeError("the unit fails after writing")
    async with db.session() as session:
        names = await session.execute(select(Member.name).order_by(Member.id))
        assert list(names.scalars()) == ["Ana", ""]


async def test_a_change_to_a_loaded_object_is_one_update_and_leaves_nothing_to_flush(
    db: Database,
) -> None:
    await seeded(db)
    async with db.session() as session:
        ana = (await session.execute(select(Member).where(Member.external_id == "U1"))).scalar_one()
        with statements(db) as ran:
            await direct.change(session, ana, away_since=date(2026, 12, 1), away_until=None)
            assert (ana.away_since, ana.away_until) == (date(2026, 12, 1), None)
            assert not session.dirty
            await session.flush()
        assert len(ran) == 1 and ran[0].startswith("UPDATE member SET away_since")
    async with db.session() as session:
        found = await session.execute(
            select(Member.external_id, Member.away_since).order_by(Member.external_id)
        )
        assert found.all() == [("U1", date(2026, 12, 1)), ("U2", date(2026, 11, 30))]


async def test_a_default_computed_per_row_is_refused_before_anything_runs(db: Database) -> None:
    """A ritual's options default to a new dict for each row (a callable), which a plan
    made once cannot bind; the caller is told to give the value."""
    table = Ritual.__table__
    add = lambda: table.insert().values(  # noqa: E731
        channel_id=1, kind="standup", tz="UTC", created_at=NOW, updated_at=NOW
    )
    async with db.session() as session:
        with statements(db) as ran, pytest.raises(ValueError, match="options has a default"):
            await direct.rows(session, ("test ritual", 1), add, {})
    assert ran == []


async def test_a_literal_none_is_bound_as_null(db: Database) -> None:
    await seeded(db)
    table = Member.__table__
    back = lambda: table.update().values(away_since=None)  # noqa: E731
    async with db.session() as session:
        assert await direct.rows(session, ("test back", 1), back, {}) == []
        found = await session.execute(select(Member.away_since))
        assert list(found.scalars()) == [None, None]


async def test_an_object_the_session_holds_sees_what_a_write_here_changed(db: Database) -> None:
    await seeded(db)
    table = Member.__table__
    rename = lambda: (  # noqa: E731
        table.update().where(table.c.id == bindparam("id")).values(name=bindparam("name"))
    )
    async with db.session() as session:
        ana = (await session.execute(select(Member).where(Member.external_id == "U1"))).scalar_one()
        await direct.rows(session, ("test rename one", 1), rename, {"id": ana.id, "name": "Ana M."})
        direct.written(session, Member, ana.id, {"name": "Ana M."})
        assert ana.name == "Ana M." and not session.dirty
        direct.written(session, Member, 999, {"name": "nobody"})  # not held: nothing to do
        again = await session.execute(select(Member).where(Member.external_id == "U1"))
        assert again.scalar_one().name == "Ana M."


async def test_only_a_stored_object_can_be_changed_here(db: Database) -> None:
    async with db.session() as session:
        new = Member(workspace_id=1, external_id="U9", name="", tz="UTC")
        session.add(new)
        with statements(db) as ran, pytest.raises(ValueError, match="only an object"):
            await direct.change(session, new, name="x")
        assert ran == []
        session.expunge(new)


async def test_a_failed_write_raises_what_sqlalchemy_raises(db: Database) -> None:
    await seeded(db)
    table = Member.__table__
    twin = lambda: table.insert().values(  # noqa: E731
        workspace_id=1, external_id="U1", name="", tz="UTC"
    )
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            await direct.rows(session, ("test twin", 1), twin, {})
