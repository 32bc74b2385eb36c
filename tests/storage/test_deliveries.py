"""A delivery id is recorded once: at once in a unit of work of its own, or together with the
rest of its batch just before the batch commits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from storage import deliveries
from storage.db import BatchBroken, Database
from storage.deliveries import Redelivered
from storage.models import InboundEvent, Workspace
from tests.helpers import statements

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def first(db: Database, delivery_id: str | None) -> bool:
    async with db.session() as session:
        return await deliveries.first(db, session, "slack", delivery_id, NOW)


async def recorded(db: Database) -> list[str]:
    async with db.session() as session:
        rows = await session.execute(select(InboundEvent.delivery_id).order_by(InboundEvent.id))
        return list(rows.scalars())


async def workspaces(db: Database) -> list[str]:
    async with db.session() as session:
        return list((await session.execute(select(Workspace.external_id))).scalars())


async def test_alone_an_id_is_recorded_at_once_and_a_repeat_is_refused(db: Database) -> None:
    assert await first(db, "Ev1") is True
    assert await recorded(db) == ["Ev1"]
    assert await first(db, "Ev1") is False
    assert await first(db, None) is True


async def test_a_batch_records_its_ids_in_one_statement_as_it_commits(db: Database) -> None:
    ids = [f"Ev{n}" for n in range(70)]  # more than one statement's worth
    with statements(db) as ran:
        async with db.batch():
            assert [await first(db, i) for i in ids] == [True] * 70
            assert ran == []
    inserts = [sql for sql in ran if sql.lstrip().startswith("INSERT")]
    assert len(inserts) == 2
    assert sorted(await recorded(db)) == sorted(ids)


async def test_an_id_repeated_within_a_batch_is_refused_the_second_time(db: Database) -> None:
    async with db.batch():
        assert await first(db, "Ev1") is True
        assert await first(db, "Ev1") is False
    assert await recorded(db) == ["Ev1"]


async def test_a_batch_holding_an_id_recorded_before_rolls_back_whole(db: Database) -> None:
    assert await first(db, "Ev1") is True
    with pytest.raises(Redelivered, match="slack Ev1"):
        async with db.batch():
            assert await first(db, "Ev2") is True
            assert await first(db, "Ev1") is True  # not known until the batch commits
            async with db.session() as session:
                session.add(Workspace(platform="slack", external_id="T1", name="", created_at=NOW))
    assert await recorded(db) == ["Ev1"]
    assert await workspaces(db) == []


async def test_a_batch_that_holds_nothing_checks_each_id_as_it_comes(db: Database) -> None:
    assert await first(db, "Ev1") is True
    async with db.batch(hold=False):
        assert await first(db, "Ev1") is False
        assert await first(db, "Ev2") is True
    assert await recorded(db) == ["Ev1", "Ev2"]


async def test_a_forgotten_id_is_first_again(db: Database) -> None:
    async with db.batch(), db.session() as session:
        assert await deliveries.first(db, session, "slack", "Form1", NOW) is True
        await deliveries.forget(db, session, "slack", "Form1")
    assert await recorded(db) == []
    assert await first(db, "Form2") is True
    async with db.session() as session:
        await deliveries.forget(db, session, "slack", "Form2")
    assert await first(db, "Form2") is True


async def test_a_platform_call_mid_batch_finds_the_held_ids_recorded(db: Database) -> None:
    async with db.batch():
        assert await first(db, "Ev1") is True
        async with db.outside():
            assert await recorded(db) == ["Ev1"]
        assert await first(db, "Ev2") is True
    assert await recorded(db) == ["Ev1", "Ev2"]


async def test_a_replay_found_mid_batch_breaks_the_batch(db: Database) -> None:
    assert await first(db, "Ev1") is True
    with pytest.raises(BatchBroken):
        async with db.batch():
            assert await first(db, "Ev1") is True
            with pytest.raises(Redelivered):
                async with db.outside():
                    pass
    assert await recorded(db) == ["Ev1"]
