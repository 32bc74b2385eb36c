"""Deliveries recorded ahead for a batch: each request still learns whether it came first,
and what the batch did not handle stays unrecorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage import deliveries
from storage.db import Database
from tests.helpers import recorded, statements

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


async def _first(db: Database, delivery: str) -> bool:
    async with db.session() as session:
        return await deliveries.first(session, "test", delivery, NOW)


async def test_a_batch_records_its_deliveries_in_one_statement_and_each_learns_if_first(
    db: Database,
) -> None:
    assert await _first(db, "seen")
    async with db.batch():
        async with db.session() as session:
            await deliveries.record_ahead(
                session, [("test", "a"), ("test", "seen"), ("test", "b")], NOW
            )
        with statements(db) as ran:
            assert [await _first(db, d) for d in ("a", "seen", "b")] == [True, False, True]
        assert ran == []
    assert sorted(await recorded(db)) == ["a", "b", "seen"]


async def test_deliveries_the_batch_did_not_handle_are_taken_back_at_its_commit(
    db: Database,
) -> None:
    async with db.batch():
        async with db.session() as session:
            await deliveries.record_ahead(session, [("test", "a"), ("test", "later")], NOW)
        assert await _first(db, "a")
    assert await recorded(db) == ["a"]
    assert await _first(db, "later"), "handled later, it is still a first delivery"
    assert not await _first(db, "later")


async def test_a_batch_stepping_out_takes_back_what_it_has_not_handled_yet(
    db: Database,
) -> None:
    async with db.batch():
        async with db.session() as session:
            await deliveries.record_ahead(session, [("test", "a"), ("test", "b")], NOW)
        assert await _first(db, "a")
        async with db.outside():
            assert await recorded(db) == ["a"]
        assert await _first(db, "b"), "recorded on its own after the step out"
    assert sorted(await recorded(db)) == ["a", "b"]


async def test_a_batch_that_rolls_back_leaves_nothing_recorded(db: Database) -> None:
    try:
        async with db.batch():
            async with db.session() as session:
                await deliveries.record_ahead(session, [("test", "a")], NOW)
            assert await _first(db, "a")
            raise RuntimeError("a request of the batch failed")
    except RuntimeError:
        pass
    assert await recorded(db) == []
    assert await _first(db, "a")


async def test_a_forgotten_delivery_counts_as_first_when_it_comes_again(db: Database) -> None:
    async with db.batch(), db.session() as session:
        await deliveries.record_ahead(session, [("test", "form")], NOW)
        assert await deliveries.first(session, "test", "form", NOW)
        await deliveries.forget(session, "test", "form")
    assert await recorded(db) == []
    assert await _first(db, "form")


async def test_a_delivery_asked_about_in_a_savepoint_rolled_back_is_not_left_recorded(
    db: Database,
) -> None:
    async with db.batch(), db.session() as session:
        await deliveries.record_ahead(session, [("test", "a")], NOW)
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                assert await deliveries.first(session, "test", "a", NOW)
                raise RuntimeError("its handling failed")
    assert await recorded(db) == []
    assert await _first(db, "a")
