"""Stored requests of different lanes are handled in batches that commit once.

What a batch changes, the replies it queues and the requests' removal from the journal commit
together; a batch that fails rolls back whole and its requests are handled one by one.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, event, select
from structlog.testing import capture_logs

from handlers import journal as journal_module
from handlers.journal import Journal
from rituals import outbound
from rituals.clock import FakeClock
from rituals.delivery import Delivery
from rituals.messages import Message
from storage import deliveries
from storage.db import Database
from storage.journal import Arrival
from storage.models import InboundEvent, JournalEntry
from storage.outbox import Envelope
from storage.queries import insert_ignoring_conflicts
from tests.helpers import RecordingPort, lease_plans, recorded

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def arrival(body: str, lane: str) -> Arrival:
    return Arrival("p", f"d-{body}", lane, "text/plain", body)


class Writer:
    """A handler that records each request in the database and queues a reply to it, as a
    ritual would; ``poison`` fails in its unit of work, ``swallow`` hides an inner failure."""

    def __init__(self, db: Database, *, poison: set[str] = frozenset(), swallow: str = "") -> None:
        self.db = db
        self.poison = set(poison)
        self.swallow = swallow
        self.calls: list[str] = []
        self.woken = 0

    async def __call__(self, entry: JournalEntry) -> None:
        self.calls.append(entry.body)
        async with self.db.session() as session:
            session.add(InboundEvent(platform="test", delivery_id=entry.body, received_at=NOW))
            await outbound.queue(
                session,
                Envelope("p", "T1", "direct", user=entry.body),
                Message(text=f"handled {entry.body}"),
                NOW,
            )
            if entry.body in self.poison:
                raise RuntimeError(f"cannot handle {entry.body}")
        if entry.body == self.swallow:
            try:
                async with self.db.session():
                    raise ValueError("a unit of work that failed, and its caller went on")
            except ValueError:
                pass
        self.db.after_commit(self.wake)

    def wake(self) -> None:
        self.woken += 1


async def left(db: Database) -> list[str]:
    async with db.session() as session:
        return list((await session.execute(select(JournalEntry.body))).scalars())


async def fill(worker: Journal, bodies: list[str]) -> None:
    for n, body in enumerate(bodies):
        await worker.append(arrival(body, f"p:T1:U{n}"))


async def test_requests_of_different_lanes_commit_once_for_the_whole_batch(db: Database) -> None:
    worker = Journal(db, FakeClock(NOW))
    handler = Writer(db)
    worker.handles("p", handler)
    bodies = [f"r{n}" for n in range(20)]
    await fill(worker, bodies)
    commits: list[int] = []
    listener = lambda _conn: commits.append(1)  # noqa: E731
    engines = [db.engine.sync_engine] + ([db._claiming.sync_engine] if db._claiming else [])
    for engine in engines:
        event.listen(engine, "commit", listener)
    try:
        await worker.drain()
    finally:
        for engine in engines:
            event.remove(engine, "commit", listener)
    assert sorted(await recorded(db)) == sorted(bodies)
    assert await left(db) == []
    # The claim, one batch (work, replies, removal) for each share handled at once (one on
    # SQLite), and the claim that finds nothing more.
    assert len(commits) <= 3 + worker.parallel < len(bodies)
    # Delivery was woken after the commit, once per request asking.
    assert handler.woken == 20


async def test_a_poisoned_request_rolls_its_batch_back_and_the_others_are_handled_alone(
    db: Database,
) -> None:
    clock = FakeClock(NOW)
    worker = Journal(db, clock)
    handler = Writer(db, poison={"r3"})
    worker.handles("p", handler)
    await fill(worker, [f"r{n}" for n in range(6)])
    await worker.drain()
    # Everyone else's work is stored once; the poisoned one's not at all, and it waits.
    assert sorted(await recorded(db)) == ["r0", "r1", "r2", "r4", "r5"]
    assert await left(db) == ["r3"]
    # The failed batch woke nobody, nor did r3's own try: only the five handled alone did.
    assert handler.woken == 5
    async with db.session() as session:
        queued = (await session.execute(select(JournalEntry))).scalars().all()
    assert [e.attempts for e in queued] == [1]
    clock.advance(timedelta(minutes=1))
    handler.poison.clear()
    await worker.drain()
    assert sorted(await recorded(db)) == ["r0", "r1", "r2", "r3", "r4", "r5"]
    assert await left(db) == []


async def test_a_failure_someone_caught_still_rolls_the_batch_back(db: Database) -> None:
    worker = Journal(db, FakeClock(NOW))
    handler = Writer(db, swallow="r1")
    worker.handles("p", handler)
    await fill(worker, ["r0", "r1", "r2"])
    await worker.drain()
    # Tried in a batch (rolled back at r1's hidden failure), then each on its own.
    assert handler.calls[:2] == ["r0", "r1"]
    assert sorted(handler.calls[-3:]) == ["r0", "r1", "r2"]
    assert sorted(await recorded(db)) == ["r0", "r1", "r2"]
    assert await left(db) == []


async def test_replies_of_a_batch_survive_a_crash_before_they_were_sent(db: Database) -> None:
    worker = Journal(db, FakeClock(NOW))
    worker.handles("p", Writer(db))
    await fill(worker, ["r0", "r1", "r2"])
    await worker.drain()  # committed; the process dies before delivery ran
    port = RecordingPort()
    restarted = Delivery(Database(db.url), {"p": port}, FakeClock(NOW))
    try:
        await restarted.drain()
    finally:
        await restarted.db.dispose()
    assert sorted(p.message.text for p in port.log) == ["handled r0", "handled r1", "handled r2"]


async def test_two_processes_draining_one_journal_handle_each_request_once_in_order(
    db: Database,
) -> None:
    other = Database(db.url)
    try:
        handled: list[tuple[str, str]] = []

        def handler(name: str, database: Database) -> Writer:
            writer = Writer(database)

            async def handle(entry: JournalEntry) -> None:
                handled.append((name, entry.body))
                await writer(entry)

            return handle  # type: ignore[return-value]

        first, second = Journal(db, FakeClock(NOW)), Journal(other, FakeClock(NOW))
        first.handles("p", handler("first", db))
        second.handles("p", handler("second", other))
        for n in range(8):
            for lane in range(10):
                await first.append(arrival(f"L{lane}-{n}", f"p:T1:U{lane}"))
        await asyncio.gather(first.drain(), second.drain(), first.drain(), second.drain())
        bodies = [body for _, body in handled]
        assert sorted(await recorded(db)) == sorted(bodies)
        assert len(bodies) == len(set(bodies)) == 80
        for lane in range(10):
            mine = [int(b.split("-")[1]) for b in bodies if b.startswith(f"L{lane}-")]
            assert mine == sorted(mine)
        assert await left(db) == []
    finally:
        await other.dispose()


class Crossing:
    """Two people's requests that take the same two rows in opposite orders, each waiting
    for the other between them: batches handled side by side deadlock on PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.halfway: set[str] = set()
        self.both_halfway = asyncio.Event()

    async def __call__(self, entry: JournalEntry) -> None:
        first, then = {"a0": ("X", "Y"), "b0": ("Y", "X")}.get(entry.body, ("", ""))
        async with self.db.session() as session:
            await session.execute(claim_row(session), {"key": entry.body})
            if first:
                await session.execute(claim_row(session), {"key": first})
                self.halfway.add(entry.body)
                if len(self.halfway) == 2:
                    self.both_halfway.set()
                await asyncio.wait_for(self.both_halfway.wait(), 5)
                await session.execute(claim_row(session), {"key": then})


def claim_row(session: Any) -> Any:
    return insert_ignoring_conflicts(session, InboundEvent, ["platform", "delivery_id"]).values(
        platform="test", delivery_id=bindparam("key"), received_at=NOW
    )


async def test_a_batch_that_deadlocks_with_another_is_tried_again_whole(pg_db: Database) -> None:
    worker = Journal(pg_db, FakeClock(NOW), parallel=2)
    worker.handles("p", Crossing(pg_db))
    for n, body in enumerate(["a0", "b0", "a1", "b1"]):  # shares: a0 and a1, b0 and b1
        await worker.append(arrival(body, f"p:T1:U{n}"))
    with capture_logs() as logs:
        await worker.drain()
    assert sorted(await recorded(pg_db)) == ["X", "Y", "a0", "a1", "b0", "b1"]
    assert await left(pg_db) == []
    events = [entry["event"] for entry in logs]
    assert "a batch crossed another; trying it again whole" in events
    assert not [e for e in events if "one by one" in e]


async def test_a_request_handled_alone_that_deadlocks_is_tried_again_at_once(
    pg_db: Database,
) -> None:
    worker = Journal(pg_db, FakeClock(NOW), parallel=2)
    worker.handles("p", Crossing(pg_db))
    for n, body in enumerate(["a0", "b0"]):  # a share each: handled alone, side by side
        await worker.append(arrival(body, f"p:T1:U{n}"))
    await worker.drain()
    assert sorted(await recorded(pg_db)) == ["X", "Y", "a0", "b0"]
    assert await left(pg_db) == []  # not waiting out a back-off


async def test_requests_a_batch_stopped_short_of_are_first_deliveries_when_handled_later(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch records its requests' delivery ids together; when someone at the door cuts
    it short, the ids of those it did not reach are not left recorded as handled."""
    monkeypatch.setattr(journal_module, "BATCH_HOLD_AT_MOST", 0.0)
    worker = Journal(db, FakeClock(NOW), parallel=1)
    someone_at_the_door = contextlib.ExitStack()
    firsts: list[tuple[str, bool]] = []

    async def handler(entry: JournalEntry) -> None:
        async with db.session() as session:
            first = await deliveries.first(session, "p", entry.delivery_id, NOW)
        firsts.append((entry.body, first))
        if len(firsts) == 1:
            someone_at_the_door.enter_context(worker.door())
        else:
            someone_at_the_door.close()

    worker.handles("p", handler)
    await fill(worker, ["r0", "r1", "r2", "r3"])
    await worker.drain()
    assert firsts == [(f"r{n}", True) for n in range(4)]
    assert sorted(await recorded(db)) == [f"d-r{n}" for n in range(4)]
    assert await left(db) == []


async def test_every_claim_is_planned_for_the_journal_as_it_is_now(pg_db: Database) -> None:
    """The journal swings from empty to thousands of requests in seconds (a burst, a
    restart after an outage): each claim is planned for it as it is then, never with a plan
    PostgreSQL made while it was nearly empty."""
    worker = Journal(pg_db, FakeClock(NOW))
    handler = Writer(pg_db)
    worker.handles("p", handler)
    for n in range(8):
        await fill(worker, [f"r{n}"])
        await worker.drain()
    assert handler.calls == [f"r{n}" for n in range(8)]
    generic, custom = await lease_plans(pg_db, "inbound_journal")
    assert generic == 0 and custom >= 8
