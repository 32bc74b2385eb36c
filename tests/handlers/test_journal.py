"""The inbound journal: stored in one commit per burst, handled in order per lane, retried."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from handlers.journal import MAX_ATTEMPTS, Journal
from rituals.clock import FakeClock
from rituals.telemetry import JOURNAL_HANDLED
from storage import journal
from storage.db import Database
from storage.journal import Arrival
from storage.models import JournalEntry

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def arrival(delivery: str, lane: str = "p:T1:U1", body: str = "") -> Arrival:
    return Arrival("p", delivery, lane, "text/plain", body or delivery)


async def stored(db: Database) -> list[str]:
    async with db.session() as session:
        rows = await session.execute(select(JournalEntry.delivery_id).order_by(JournalEntry.id))
        return list(rows.scalars())


class Handled:
    """A platform handler for the test: records bodies, fails the ones it is told to."""

    def __init__(self, failing: dict[str, int] | None = None) -> None:
        self.bodies: list[str] = []
        self.failing = dict(failing or {})
        self.seen = asyncio.Event()

    async def __call__(self, entry: JournalEntry) -> None:
        if self.failing.get(entry.body, 0) > 0:
            self.failing[entry.body] -= 1
            raise RuntimeError(f"cannot handle {entry.body}")
        self.bodies.append(entry.body)
        self.seen.set()


async def test_concurrent_arrivals_share_writes_and_are_all_stored(db: Database) -> None:
    """Each write is one statement and one commit (on PostgreSQL the statement's own, sent
    without BEGIN and COMMIT: `single()`); arrivals that come together share it."""
    journal = Journal(db, FakeClock(NOW))
    writes: list[str] = []
    commits: list[int] = []

    def wrote(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        if sql.startswith("INSERT INTO inbound_journal"):
            writes.append(sql)

    def committed(_conn: object) -> None:
        commits.append(1)

    event.listen(db.engine.sync_engine, "before_cursor_execute", wrote)
    event.listen(db.engine.sync_engine, "commit", committed)
    try:
        await asyncio.gather(*(journal.append(arrival(f"d{n}", f"p:T1:U{n}")) for n in range(40)))
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", wrote)
        event.remove(db.engine.sync_engine, "commit", committed)
    assert sorted(await stored(db)) == sorted(f"d{n}" for n in range(40))
    assert 1 <= len(writes) <= 3
    assert len(commits) == len(writes)


async def test_a_delivery_stored_twice_is_kept_once(db: Database) -> None:
    journal = Journal(db, FakeClock(NOW))
    await journal.append(arrival("same"))
    await journal.append(arrival("same"))
    assert await stored(db) == ["same"]


async def test_a_lane_is_handled_in_arrival_order_and_then_forgotten(db: Database) -> None:
    journal = Journal(db, FakeClock(NOW))
    handled = Handled()
    journal.handles("p", handled)
    for n in range(5):
        await journal.append(arrival(f"a{n}", "p:T1:ALICE"))
        await journal.append(arrival(f"b{n}", "p:T1:BOB"))
    await journal.drain()
    assert [b for b in handled.bodies if b.startswith("a")] == [f"a{n}" for n in range(5)]
    assert [b for b in handled.bodies if b.startswith("b")] == [f"b{n}" for n in range(5)]
    assert await stored(db) == []


async def test_a_failed_entry_holds_its_lane_and_is_retried_later(db: Database) -> None:
    clock = FakeClock(NOW)
    journal = Journal(db, clock, parallel=1)  # so "first" and "other" share one batch
    # Twice: once in the batch it shares with "other", once more on its own.
    handled = Handled(failing={"first": 2})
    journal.handles("p", handled)
    await journal.append(arrival("first", "p:T1:ALICE"))
    await journal.append(arrival("second", "p:T1:ALICE"))
    await journal.append(arrival("other", "p:T1:BOB"))
    await journal.drain()
    assert handled.bodies == ["other"]
    assert await stored(db) == ["first", "second"]
    clock.advance(timedelta(seconds=10))
    await journal.drain()
    assert handled.bodies == ["other", "first", "second"]


class Overlapping(Handled):
    """Notes how many requests were being handled at the same moment; ``poison`` are
    requests that can never be handled."""

    def __init__(self, poison: set[str]) -> None:
        super().__init__()
        self.poison = poison
        self.now = self.most = 0

    async def __call__(self, entry: JournalEntry) -> None:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(0.001)  # as a statement waits for the database's reply
            if entry.body in self.poison:
                raise ValueError(f"{entry.body} is malformed")
            await super().__call__(entry)
        finally:
            self.now -= 1


async def test_batches_of_different_people_are_handled_at_once_on_postgresql(
    pg_db: Database,
) -> None:
    journal = Journal(pg_db, FakeClock(NOW))
    handled = Overlapping(poison={"b2"})
    journal.handles("p", handled)
    people = "abcdefgh"
    for n in range(4):
        for who in people:
            await journal.append(arrival(f"{who}{n}", f"p:T1:{who}"))
    await journal.drain()
    assert handled.most > 1
    for who in people:
        expected = [f"{who}{n}" for n in range(4) if f"{who}{n}" != "b2"]
        assert [b for b in handled.bodies if b[0] == who] == expected
    assert len(handled.bodies) == len(set(handled.bodies)) == 31
    assert [d for d, _, _ in await dead_letters(pg_db)] == ["b2"]
    assert await stored(pg_db) == []


async def dead_letters(db: Database) -> list[tuple[str, str, int]]:
    async with db.session() as session:
        return [(d.delivery_id, d.reason, d.attempts) for d in await journal.dead_letters(session)]


async def test_an_entry_that_keeps_failing_is_set_aside_so_its_lane_moves_on(
    db: Database,
) -> None:
    clock = FakeClock(NOW)
    worker = Journal(db, clock)
    handled = Handled(failing={"poison": MAX_ATTEMPTS + 1})
    worker.handles("p", handled)
    await worker.append(arrival("poison"))
    await worker.append(arrival("next"))
    for _ in range(MAX_ATTEMPTS):
        await worker.drain()
        clock.advance(timedelta(minutes=5))
    await worker.drain()
    assert handled.bodies == ["next"]
    assert await stored(db) == []
    assert await dead_letters(db) == [
        ("poison", "RuntimeError: cannot handle poison", MAX_ATTEMPTS)
    ]


class Refusing:
    """A handler whose request can never be handled: the payload itself is at fault."""

    def __init__(self) -> None:
        self.tries = 0
        self.bodies: list[str] = []

    async def __call__(self, entry: JournalEntry) -> None:
        if entry.body == "bad":
            self.tries += 1
            raise ValueError("the text holds a character the database cannot store")
        self.bodies.append(entry.body)


async def test_a_request_that_can_never_be_handled_is_set_aside_at_once(db: Database) -> None:
    worker = Journal(db, FakeClock(NOW))
    handler = Refusing()
    worker.handles("p", handler)
    await worker.append(arrival("bad", "p:T1:ALICE"))
    await worker.append(arrival("good", "p:T1:ALICE"))

    await worker.drain()

    assert handler.tries == 1
    assert handler.bodies == ["good"]  # the person's next request is not held behind it
    assert await dead_letters(db) == [
        ("bad", "ValueError: the text holds a character the database cannot store", 1)
    ]
    before = JOURNAL_HANDLED.labels("p", "set_aside")._value.get()
    await worker.append(arrival("bad-again", "p:T1:ALICE", body="bad"))
    await worker.drain()
    assert JOURNAL_HANDLED.labels("p", "set_aside")._value.get() == before + 1


async def test_a_set_aside_request_goes_back_to_be_handled_once_replayed(db: Database) -> None:
    worker = Journal(db, FakeClock(NOW))
    handler = Refusing()
    worker.handles("p", handler)
    await worker.append(arrival("d1", body="bad"))
    await worker.drain()
    async with db.session() as session:
        [letter] = await journal.dead_letters(session)
        letter.body = "fixed"  # as if the cause were fixed and the request put right
    async with db.session() as session:
        assert await journal.replay(session, None, NOW) == 1
    await worker.drain()
    assert handler.bodies == ["fixed"]
    assert await dead_letters(db) == [] and await stored(db) == []


async def test_an_entry_claimed_by_a_live_worker_is_not_handled_twice(db: Database) -> None:
    clock = FakeClock(NOW)
    first, second = Journal(db, clock), Journal(db, clock)
    started, release = asyncio.Event(), asyncio.Event()
    bodies: list[str] = []

    async def slow(entry: JournalEntry) -> None:
        started.set()
        await release.wait()
        bodies.append(entry.body)

    first.handles("p", slow)
    second.handles("p", Handled())
    await first.append(arrival("once"))
    busy = asyncio.create_task(first.handle_some())
    await started.wait()
    assert await second.handle_some() == 0
    release.set()
    await busy
    assert bodies == ["once"]


async def test_workers_sharing_a_journal_each_claim_their_share_of_the_lanes(
    pg_db: Database,
) -> None:
    """Several workers are for PostgreSQL: one of them claiming every waiting lane would
    leave the others idle while a few busy lanes wait behind it."""
    db = pg_db
    clock = FakeClock(NOW)
    first, second = Journal(db, clock, workers=2), Journal(db, clock, workers=2)
    held: dict[str, list[str]] = {"first": [], "second": []}
    first_busy, second_busy, release = asyncio.Event(), asyncio.Event(), asyncio.Event()

    def holding(name: str, busy: asyncio.Event):
        async def handle(entry: JournalEntry) -> None:
            held[name].append(entry.body)
            busy.set()
            await release.wait()

        return handle

    first.handles("p", holding("first", first_busy))
    second.handles("p", holding("second", second_busy))
    for n in range(6):
        await first.append(arrival(f"lane{n}", f"p:T1:U{n}"))
    one = asyncio.create_task(first.handle_some())
    await asyncio.wait_for(first_busy.wait(), 5)
    two = asyncio.create_task(second.handle_some())
    await asyncio.wait_for(second_busy.wait(), 5)
    release.set()

    assert await asyncio.gather(one, two) == [3, 2]
    assert await first.handle_some() == 1
    assert sorted(held["first"] + held["second"]) == [f"lane{n}" for n in range(6)]
    assert await stored(db) == []


async def test_workers_claiming_at_the_same_moment_each_get_their_share(pg_db: Database) -> None:
    for n in range(6):
        await Journal(pg_db, FakeClock(NOW)).append(arrival(f"lane{n}", f"p:T1:U{n}"))
    claim = {"platforms": ["p"], "limit": 50, "lease": timedelta(seconds=20), "workers": 2}

    async with pg_db.session() as one:
        first = await journal.claim(one, "first", NOW, **claim)
        async with pg_db.session() as other:
            second = await journal.claim(other, "second", NOW, **claim)

    assert [e.body for e in first] == ["lane0", "lane1", "lane2"]
    assert [e.body for e in second] == ["lane3", "lane4", "lane5"]


async def test_the_worker_wakes_on_arrival(db: Database) -> None:
    journal = Journal(db, FakeClock(NOW), poll=60)
    handled = Handled()
    journal.handles("p", handled)
    stop = asyncio.Event()
    worker = asyncio.create_task(journal.run(stop))
    await journal.append(arrival("wake"))
    await asyncio.wait_for(handled.seen.wait(), 5)
    stop.set()
    await worker
    assert handled.bodies == ["wake"]
    assert await stored(db) == []


async def test_handling_makes_way_for_requests_at_the_door(db: Database) -> None:
    journal = Journal(db, FakeClock(NOW))
    handled = Handled()
    journal.handles("p", handled)
    await journal.append(arrival("waits"))
    with journal.door():
        task = asyncio.create_task(journal.drain())
        await asyncio.sleep(0.05)
        assert handled.bodies == []
    await task
    assert handled.bodies == ["waits"]


@pytest.mark.parametrize("bad", ["", "x" * 300])
async def test_ids_and_lanes_of_any_length_are_stored(db: Database, bad: str) -> None:
    journal = Journal(db, FakeClock(NOW))
    await journal.append(Arrival("p", bad or "empty", bad, "text/plain", "body"))
    async with db.session() as session:
        assert (await session.execute(select(func.count(JournalEntry.id)))).scalar_one() == 1


async def test_a_stopping_worker_gives_back_what_it_claimed(db: Database) -> None:
    clock = FakeClock(NOW)
    stopping, next_start = Journal(db, clock), Journal(db, clock)
    started = asyncio.Event()

    async def hangs(entry: JournalEntry) -> None:
        started.set()
        await asyncio.Event().wait()

    stopping.handles("p", hangs)
    await stopping.append(arrival("interrupted"))
    task = asyncio.create_task(stopping.handle_some())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    handled = Handled()
    next_start.handles("p", handled)
    await next_start.drain()
    assert handled.bodies == ["interrupted"]


async def test_a_hanging_request_is_abandoned_and_retried(db: Database) -> None:
    clock = FakeClock(NOW)
    journal = Journal(db, clock, handle_timeout=0.05)
    calls: list[str] = []

    async def hangs_once(entry: JournalEntry) -> None:
        calls.append(entry.body)
        if len(calls) == 1:
            await asyncio.Event().wait()

    journal.handles("p", hangs_once)
    await journal.append(arrival("slow"))
    await journal.drain()
    assert await stored(db) == ["slow"]
    clock.advance(timedelta(minutes=1))
    await journal.drain()
    assert calls == ["slow", "slow"]
    assert await stored(db) == []


async def test_a_request_for_a_platform_not_running_here_waits_and_is_retried(
    db: Database,
) -> None:
    clock = FakeClock(NOW)
    journal = Journal(db, clock)
    await journal.append(arrival("early"))
    await journal.drain()
    assert await stored(db) == ["early"]
    handled = Handled()
    journal.handles("p", handled)
    clock.advance(timedelta(minutes=1))
    await journal.drain()
    assert handled.bodies == ["early"]


async def test_a_request_for_a_platform_not_running_here_is_never_dropped(db: Database) -> None:
    clock = FakeClock(NOW)
    journal = Journal(db, clock)  # no handler for "teams" in this process
    await journal.append(Arrival("teams", "activity:t:c:1", "teams:t:u", "application/json", "{}"))
    for _ in range(12):
        clock.advance(timedelta(minutes=6))
        await journal.drain()
    assert await stored(db) == ["activity:t:c:1"]


async def test_the_lanes_still_holding_requests_are_known_in_one_look(db: Database) -> None:
    journal = Journal(db, FakeClock(NOW))
    journal.handles("p", Handled())
    long_lane = "p:T1:" + "U" * 400  # stored cut to the column's length, still known
    await journal.append(arrival("d1", lane="p:T1:U1"))
    await journal.append(arrival("d2", lane=long_lane))
    asked = {"p:T1:U1", "p:T1:U2", long_lane}
    assert await journal.held(asked) == {"p:T1:U1", long_lane}
    await journal.drain()
    assert await journal.held(asked) == set()
    assert await journal.held(set()) == set()
