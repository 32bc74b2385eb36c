"""Messages stored with their unit of work's commit: one statement for a batch's replies,
in the order queued, and gone with a unit of work that rolls back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage
from storage.outbox import Envelope
from tests.helpers import statements

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def _to(user: str, dedup_key: str | None = None) -> Envelope:
    return Envelope("test", "W1", "direct", user=user, dedup_key=dedup_key)


async def _stored(db: Database) -> list[tuple[str, str]]:
    async with db.session() as session:
        rows = await session.execute(
            select(OutboxMessage.user, OutboxMessage.payload).order_by(OutboxMessage.id)
        )
        return [(user or "", payload["text"]) for user, payload in rows]


async def test_a_batch_stores_its_replies_in_one_statement_when_it_commits(
    db: Database,
) -> None:
    with statements(db) as ran:
        async with db.batch():
            for n in range(5):
                async with db.session() as session:
                    outbox.enqueue_at_commit(session, _to(f"U{n}"), {"text": f"reply {n}"}, NOW)
            assert await _stored(db) == [], "nothing is written before the commit"
    assert sum("INSERT INTO outbox" in sql for sql in ran) == 1
    assert await _stored(db) == [(f"U{n}", f"reply {n}") for n in range(5)]


async def test_a_unit_of_work_that_only_queues_a_reply_still_stores_it(db: Database) -> None:
    async with db.session() as session:
        outbox.enqueue_at_commit(session, _to("U1"), {"text": "hello"}, NOW)
    assert await _stored(db) == [("U1", "hello")]


async def test_a_message_stored_at_once_goes_after_those_queued_before_it(db: Database) -> None:
    async with db.session() as session:
        outbox.enqueue_at_commit(session, _to("U1"), {"text": "first"}, NOW)
        await outbox.enqueue(session, _to("U1"), {"text": "second"}, NOW)
        outbox.enqueue_at_commit(session, _to("U1"), {"text": "third"}, NOW)
        await outbox.enqueue_many(session, [(_to("U1", "k"), {"text": "fourth"})], NOW)
    assert [text for _, text in await _stored(db)] == ["first", "second", "third", "fourth"]


async def test_queued_replies_go_with_a_unit_of_work_that_rolls_back(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            outbox.enqueue_at_commit(session, _to("U1"), {"text": "lost with the work"}, NOW)
            raise RuntimeError("the request failed")
    assert await _stored(db) == []


async def test_a_batch_stepping_out_stores_what_it_queued_so_far(db: Database) -> None:
    async with db.batch():
        async with db.session() as session:
            outbox.enqueue_at_commit(session, _to("U1"), {"text": "before"}, NOW)
        async with db.outside():
            assert await _stored(db) == [("U1", "before")]
        async with db.session() as session:
            outbox.enqueue_at_commit(session, _to("U2"), {"text": "after"}, NOW)
    assert await _stored(db) == [("U1", "before"), ("U2", "after")]


def test_a_message_with_a_dedup_key_cannot_wait_for_the_commit() -> None:
    with pytest.raises(ValueError, match="dedup key"):
        outbox.enqueue_at_commit(
            None,  # type: ignore[arg-type]
            _to("U1", dedup_key="once"),
            {"text": "x"},
            NOW,
        )


class Refused(Exception):
    pass


async def test_a_savepoint_rolled_back_keeps_what_was_queued_before_it_and_drops_its_own(
    db: Database,
) -> None:
    async with db.batch():
        async with db.session() as session:
            outbox.enqueue_at_commit(session, _to("A"), {"text": "reply to A"}, NOW)
        async with db.session() as session:
            with pytest.raises(Refused):
                async with session.begin_nested():
                    # Stored at once, so what was queued before goes in first, in the savepoint.
                    await outbox.enqueue(session, _to("B"), {"text": "inside"}, NOW)
                    outbox.enqueue_at_commit(session, _to("B"), {"text": "queued inside"}, NOW)
                    raise Refused
            outbox.enqueue_at_commit(session, _to("B"), {"text": "reply to B"}, NOW)
    assert await _stored(db) == [("A", "reply to A"), ("B", "reply to B")]


async def test_a_savepoint_released_keeps_everything_in_order(db: Database) -> None:
    async with db.session() as session:
        outbox.enqueue_at_commit(session, _to("A"), {"text": "first"}, NOW)
        async with session.begin_nested():
            outbox.enqueue_at_commit(session, _to("A"), {"text": "second"}, NOW)
            await outbox.enqueue(session, _to("A"), {"text": "third"}, NOW)
        outbox.enqueue_at_commit(session, _to("A"), {"text": "fourth"}, NOW)
    assert [text for _, text in await _stored(db)] == ["first", "second", "third", "fourth"]


async def test_a_lease_takes_no_more_than_its_limit_of_lane_heads(db: Database) -> None:
    """Six people each with two replies waiting: a lease of three takes the first message
    of three of them, and the next lease the other three; none takes a second message of a
    lane whose first is out. On PostgreSQL the pick is one statement that must not re-run
    per row it updates (each run would pick rows the last one did not lock)."""
    async with db.session() as session:
        for n in range(12):
            await outbox.enqueue(session, _to(f"U{n % 6}"), {"text": f"reply {n}"}, NOW)
    leased: list[list[str]] = []
    for worker in ("w1", "w2", "w3"):
        async with db.claims() as session:
            rows = await outbox.claim(
                session, worker, NOW, platforms=["test"], limit=3, lease=timedelta(seconds=20)
            )
        leased.append([f"{row.user}:{row.payload['text']}" for row in rows])
    assert leased == [
        ["U0:reply 0", "U1:reply 1", "U2:reply 2"],
        ["U3:reply 3", "U4:reply 4", "U5:reply 5"],
        [],
    ]


async def test_a_lease_is_compiled_once_and_reused(db: Database) -> None:
    """The lease runs for every batch delivery sends: it is turned into SQL once per
    process, not again at each claim (an UPDATE of the mapped class, or a construct
    SQLAlchemy cannot key its cache on, is compiled anew every time: a tenth of the CPU of
    a stream of commands)."""
    compiled: list[object] = []

    def note(
        _conn: object, _cursor: object, statement: str, _params: object, context: Any, *_: object
    ) -> None:
        if "picked" in statement and context is not None:
            compiled.append(context.compiled)

    engines = [db.engine.sync_engine] + ([db._claiming.sync_engine] if db._claiming else [])
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    try:
        for worker in ("w1", "w2"):
            async with db.claims() as session:
                await outbox.claim(
                    session, worker, NOW, platforms=["test"], limit=3, lease=timedelta(seconds=20)
                )
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)
    assert len(compiled) == 2
    assert compiled[0] is compiled[1]
