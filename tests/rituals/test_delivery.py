"""The outbox: stored before sending, retried until delivered, in order per channel, once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from structlog.testing import capture_logs

from rituals import outbound
from rituals.clock import FakeClock
from rituals.delivery import PACED, PROBE_WAIT, Delivery, backoff
from rituals.messages import Message
from rituals.port import SendError, Sent
from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage
from storage.outbox import Envelope
from tests.helpers import PLATFORM, Posted, RecordingPort, lease_plans

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def to_channel(channel: str = "C1", **kw: object) -> Envelope:
    return Envelope(PLATFORM, "W1", "post", channel=channel, **kw)  # type: ignore[arg-type]


def to_person(user: str) -> Envelope:
    return Envelope(PLATFORM, "W1", "direct", user=user)


async def queue(db: Database, *items: tuple[Envelope, str]) -> list[int]:
    ids = []
    async with db.session() as session:
        for envelope, text in items:
            ids.append(await outbound.queue(session, envelope, Message(text=text), T0))
    return ids


async def rows(db: Database) -> list[OutboxMessage]:
    async with db.session() as session:
        return list(
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        )


def setup(db: Database) -> tuple[FakeClock, RecordingPort, Delivery]:
    """Delivery with backoff at its full length, so retry times can be named exactly."""
    clock = FakeClock(T0)
    port = RecordingPort()
    return clock, port, Delivery(db, {PLATFORM: port}, clock, jitter=lambda: 1.0)


async def test_a_failed_send_is_retried_with_backoff_until_delivered(db: Database) -> None:
    clock, port, delivery = setup(db)
    await queue(db, (to_channel(), "hello"))
    port.fail_next = [SendError("HTTP 500"), ConnectionResetError("reset by peer")]

    assert await delivery.drain() == 0
    [row] = await rows(db)
    assert (row.status, row.attempts, row.next_attempt_at) == (
        "pending",
        1,
        T0 + timedelta(seconds=1),
    )
    assert row.last_error == "HTTP 500"

    clock.advance(timedelta(seconds=1))
    assert await delivery.drain() == 0
    [row] = await rows(db)
    assert row.attempts == 2 and row.next_attempt_at == clock.now() + timedelta(seconds=2)
    assert "reset by peer" in row.last_error

    clock.advance(timedelta(seconds=1))
    assert await delivery.drain() == 0
    clock.advance(timedelta(seconds=1))
    assert await delivery.drain() == 1
    assert [p.text for p in port.log] == ["hello"]
    assert (await rows(db))[0].status == "sent"


async def test_rate_limits_wait_for_retry_after(db: Database) -> None:
    clock, port, delivery = setup(db)
    await queue(db, (to_channel(), "hello"))
    port.fail_next = [SendError("ratelimited", retry_after=30)]
    await delivery.drain()
    assert (await rows(db))[0].next_attempt_at == T0 + timedelta(seconds=30)
    clock.advance(timedelta(seconds=29))
    assert await delivery.drain() == 0
    clock.advance(timedelta(seconds=1))
    assert await delivery.drain() == 1


async def test_order_is_kept_per_channel_while_other_channels_flow(db: Database) -> None:
    clock, port, delivery = setup(db)
    await queue(
        db,
        (to_channel("C1"), "one"),
        (to_channel("C1"), "two"),
        (to_person("bob"), "dm"),
        (to_channel("C1"), "three"),
    )
    port.fail_next = [SendError("HTTP 503")]
    await delivery.drain()
    assert [p.text for p in port.log] == ["dm"]

    for _ in range(3):
        clock.advance(timedelta(seconds=5))
        await delivery.drain()
    assert [p.text for p in port.to("C1")] == ["one", "two", "three"]


async def test_a_permanent_failure_is_given_up_and_the_lane_moves_on(db: Database) -> None:
    _clock, port, delivery = setup(db)
    await queue(db, (to_person("gone"), "first"), (to_person("gone"), "second"))
    port.fail_next = [SendError("user blocked the bot", permanent=True)]
    assert await delivery.drain() == 1
    assert [r.status for r in await rows(db)] == ["dead", "sent"]
    assert [p.text for p in port.log] == ["second"]


async def test_a_message_not_to_keep_leaves_no_row_once_sent_or_given_up(db: Database) -> None:
    clock, port, delivery = setup(db)
    private = Envelope(PLATFORM, "W1", "direct", user="ben", keep=False)
    await queue(db, (private, "noted"), (to_channel(), "kept"))
    port.fail_next = [SendError("HTTP 500")]

    assert await delivery.drain() == 1
    assert [(r.user, r.status, r.keep) for r in await rows(db)] == [
        ("ben", "pending", False),
        (None, "sent", True),
    ]
    clock.advance(timedelta(seconds=1))
    assert await delivery.drain() == 1
    assert [p.text for p in port.to("ben")] == ["noted"]
    assert [r.user for r in await rows(db)] == [None]

    await queue(db, (Envelope(PLATFORM, "W1", "direct", user="cal", keep=False), "gone"))
    port.fail_next = [SendError("user blocked the bot", permanent=True)]
    assert await delivery.drain() == 0
    assert [r.user for r in await rows(db)] == [None]


async def test_a_thread_reply_waits_for_its_parent_and_lands_under_it(db: Database) -> None:
    clock, port, delivery = setup(db)
    [parent] = await queue(db, (to_channel(), "summary"))
    await queue(db, (to_channel(thread_of=parent), "answers"))
    port.fail_next = [SendError("HTTP 500")]
    await delivery.drain()
    assert port.log == []
    clock.advance(timedelta(seconds=2))
    await delivery.drain()
    summary, reply = port.log
    assert reply.thread == summary.ref


async def test_messages_survive_a_restart(db: Database, tmp_path) -> None:
    await queue(db, (to_channel(), "queued before the crash"))
    await db.dispose()
    fresh = Database(db.url)
    try:
        _clock, port, delivery = setup(fresh)
        assert await delivery.drain() == 1
        assert [p.text for p in port.log] == ["queued before the crash"]
    finally:
        await fresh.dispose()


async def until_sent(db: Database, count: int) -> None:
    """Wait until ``count`` rows are recorded as sent: the point a kill is simulated at."""
    for _ in range(1000):
        if sum(r.status == "sent" for r in await rows(db)) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"fewer than {count} messages were recorded as sent")


class StallingPort(RecordingPort):
    """Delivers ``limit`` messages, then hangs: a process killed in the middle of a fan-out."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.stalled = asyncio.Event()

    async def direct(self, workspace: str, user: str, message: Message) -> Sent:
        if len(self.log) >= self.limit:
            self.stalled.set()
            await asyncio.Event().wait()
        return await super().direct(workspace, user, message)


async def test_a_run_killed_mid_send_delivers_the_rest_once_after_restart(db: Database) -> None:
    people = [f"u{i}" for i in range(10)]
    await queue(db, *[(to_person(p), f"prompt for {p}") for p in people])
    clock = FakeClock(T0)
    stalling = StallingPort(limit=4)
    doomed = Delivery(db, {PLATFORM: stalling}, clock, concurrency=1, worker_id="doomed")
    task = asyncio.create_task(doomed.drain())
    await asyncio.wait_for(stalling.stalled.wait(), timeout=10)
    await asyncio.wait_for(until_sent(db, 4), timeout=10)
    task.cancel()

    clock.advance(doomed.lease + timedelta(seconds=1))
    port = RecordingPort()
    assert await Delivery(db, {PLATFORM: port}, clock, worker_id="restarted").drain() == 6
    delivered = [p.to for p in stalling.log] + [p.to for p in port.log]
    assert sorted(delivered) == sorted(people)
    assert all(r.status == "sent" for r in await rows(db))


async def test_two_workers_share_one_outbox_without_sending_twice(db: Database) -> None:
    lanes = [f"C{i}" for i in range(20)]
    await queue(db, *[(to_channel(lane), f"{lane}:{n}") for n in range(5) for lane in lanes])
    clock = FakeClock(T0)
    second_db = Database(db.url)
    shared_log: list[Posted] = []  # one platform seen by both workers, in arrival order
    try:
        ports = [RecordingPort(log=shared_log), RecordingPort(log=shared_log)]
        workers = [
            Delivery(db, {PLATFORM: ports[0]}, clock, batch=7, worker_id="a"),
            Delivery(second_db, {PLATFORM: ports[1]}, clock, batch=7, worker_id="b"),
        ]
        counts = await asyncio.gather(*(w.drain() for w in workers))
    finally:
        await second_db.dispose()
    assert sum(counts) == 100
    texts = [p.text for p in shared_log]
    assert sorted(texts) == sorted(f"{lane}:{n}" for n in range(5) for lane in lanes)
    for lane in lanes:
        assert [t for t in texts if t.startswith(f"{lane}:")] == [f"{lane}:{n}" for n in range(5)]


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n, None).total_seconds() for n in (1, 2, 3, 9, 20)] == [1, 2, 4, 256, 300]
    assert backoff(3, 12.5).total_seconds() == 12.5
    assert backoff(3, None, 0.5).total_seconds() == 2.0
    assert backoff(3, 12.5, 0.5).total_seconds() == 12.5  # Retry-After is what Slack asked


async def test_messages_that_failed_together_come_back_spread_out(db: Database) -> None:
    clock = FakeClock(T0)
    port = RecordingPort()
    delivery = Delivery(db, {PLATFORM: port}, clock)
    await queue(db, *[(to_person(f"u{n}"), f"dm {n}") for n in range(20)])
    port.fail_next = [SendError("HTTP 500") for _ in range(20)]
    await delivery.drain()
    retries = {r.next_attempt_at for r in await rows(db)}
    assert len(retries) > 10
    assert all(T0 + timedelta(seconds=0.5) <= at <= T0 + timedelta(seconds=1) for at in retries)


async def test_after_a_retry_after_one_probe_goes_before_the_rest(db: Database) -> None:
    clock, port, delivery = setup(db)
    await queue(db, *[(to_person(f"u{n}"), f"dm {n}") for n in range(6)])
    port.fail_next = [SendError("ratelimited", retry_after=30) for _ in range(6)]
    await delivery.drain()
    assert port.log == []
    clock.advance(timedelta(seconds=30))
    port.fail_next = [SendError("ratelimited", retry_after=10)]

    await delivery.drain()  # the probe meets the limit again: nothing else was tried
    assert port.log == [] and port.fail_next == []
    clock.advance(timedelta(seconds=10))
    assert await delivery.drain() == 1  # the probe alone
    clock.advance(PROBE_WAIT)
    assert await delivery.drain() == 5
    assert sorted(p.text for p in port.log) == [f"dm {n}" for n in range(6)]


async def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends(
    db: Database,
) -> None:
    clock, port, delivery = setup(db)
    await queue(db, *[(to_person(f"u{n}"), f"dm {n}") for n in range(30)])
    port.fail_next = [SendError("HTTP 503") for _ in range(30)]
    with capture_logs() as logs:
        await delivery.drain()
        clock.advance(timedelta(seconds=1))
        await delivery.drain()
    events = [entry["event"] for entry in logs]
    assert events.count("sends failing; retrying with backoff until they go through") == 1
    assert events.count("sends going through again") == 1
    [ended] = [e for e in logs if e["event"] == "sends going through again"]
    assert ended["failed_tries"] == 30 and ended["last_error"] == "HTTP 503"


async def test_a_worker_whose_lease_ran_out_cannot_undo_a_delivery(db: Database) -> None:
    await queue(db, (to_channel(), "once"))
    lease = timedelta(seconds=30)
    async with db.session() as session:
        [slow] = await outbox.claim(session, "slow", T0, platforms=[PLATFORM], limit=1, lease=lease)
    later = T0 + lease + timedelta(seconds=1)
    async with db.session() as session:
        [fast] = await outbox.claim(
            session, "fast", later, platforms=[PLATFORM], limit=1, lease=lease
        )
        await outbox.mark_sent(session, [(fast.id, "C1", "m1")], later)
    async with db.session() as session:
        await outbox.mark_failed(
            session, slow.id, worker="slow", error="timeout", retry_at=later, attempts=1
        )
    [row] = await rows(db)
    assert (row.status, row.sent_ref) == ("sent", "m1")


async def test_a_send_that_hangs_is_retried_after_the_send_timeout(db: Database) -> None:
    clock = FakeClock(T0)
    hanging = StallingPort(limit=0)
    await queue(db, (to_person("bob"), "hello"))
    delivery = Delivery(db, {PLATFORM: hanging}, clock, send_timeout=timedelta(milliseconds=50))
    assert await delivery.drain() == 0
    [row] = await rows(db)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "no answer within 0.05s")


async def test_each_lane_is_paced_to_the_platforms_interval_without_holding_the_others(
    db: Database,
) -> None:
    clock = FakeClock(T0)
    port = RecordingPort()
    delivery = Delivery(db, {PLATFORM: port}, clock, lane_interval={PLATFORM: timedelta(seconds=1)})
    await queue(db, *[(to_channel("C1"), f"c1-{n}") for n in range(3)], (to_person("bob"), "dm"))
    await queue(db, *[(to_channel("C2"), f"c2-{n}") for n in range(2)])
    await delivery.drain()
    # One message per conversation now; the next waits its turn without holding the rest.
    assert sorted(p.text for p in port.log) == ["c1-0", "c2-0", "dm"]
    async with db.session() as session:
        waiting = (
            (await session.execute(select(OutboxMessage).where(OutboxMessage.status == "pending")))
            .scalars()
            .all()
        )
    # The heads of the busy lanes were put back for a second, trying nothing and costing no
    # attempt; the messages behind them were never claimed.
    assert {r.attempts for r in waiting} == {0}
    assert sorted(r.payload["text"] for r in waiting if r.last_error == PACED) == ["c1-1", "c2-1"]
    clock.advance(timedelta(seconds=1))
    await delivery.drain()
    clock.advance(timedelta(seconds=1))
    await delivery.drain()
    assert [p.text for p in port.to("C1")] == ["c1-0", "c1-1", "c1-2"]
    assert [p.text for p in port.to("C2")] == ["c2-0", "c2-1"]


def privately(user: str, channel: str) -> Envelope:
    """A private reply to ``user``'s command in ``channel``."""
    return Envelope(PLATFORM, "W1", "ephemeral", channel=channel, user=user)


class PersonalChatPort(RecordingPort):
    """A platform that shows private replies in the person's own chat, as Teams does."""

    private_in_person = True


async def test_private_replies_keep_the_pace_of_the_chat_they_land_in(db: Database) -> None:
    clock = FakeClock(T0)
    second = {PLATFORM: timedelta(seconds=1)}
    personal, elsewhere = PersonalChatPort(), RecordingPort()
    burst = [(privately("bob", c), f"{c}-{n}") for n in range(2) for c in ("C1", "C2")]
    await queue(db, *burst, (to_person("bob"), "dm"))

    delivery = Delivery(db, {PLATFORM: personal}, clock, lane_interval=second)
    await delivery.drain()
    # Three lanes, one chat: one message a second reaches it, whichever lane it is in.
    assert len(personal.log) == 1
    for sent in range(2, 6):
        clock.advance(timedelta(seconds=1))
        await delivery.drain()
        assert len(personal.log) == sent

    # Where a private reply is no post to a conversation (Slack's), it keeps no pace.
    await queue(db, *burst)
    await Delivery(db, {PLATFORM: elsewhere}, clock, lane_interval=second).drain()
    assert len(elsewhere.log) == 4


async def test_a_rate_limit_pauses_the_whole_workspace_until_retry_after(db: Database) -> None:
    clock, port, _ = setup(db)
    await queue(db, *[(to_person(f"u{n}"), f"dm {n}") for n in range(5)])
    port.fail_next = [SendError("ratelimited", retry_after=30)]
    delivery_one_at_a_time = Delivery(db, {PLATFORM: port}, clock, concurrency=1)
    await delivery_one_at_a_time.drain()
    attempts_while_paused = len(port.log)
    assert attempts_while_paused == 0
    assert {r.next_attempt_at for r in await rows(db)} == {T0 + timedelta(seconds=30)}
    clock.advance(timedelta(seconds=30))
    assert await delivery_one_at_a_time.drain() == 5


class HoldingPort(RecordingPort):
    """Holds its direct message to ``slow`` until released: a batch still out."""

    def __init__(self, slow: str) -> None:
        super().__init__()
        self.slow = slow
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def direct(self, workspace: str, user: str, message: Message) -> Sent:
        if user == self.slow:
            self.started.set()
            await self.release.wait()
        return await super().direct(workspace, user, message)


async def test_a_reply_queued_while_a_batch_is_out_goes_without_waiting_for_it(
    db: Database,
) -> None:
    port = HoldingPort("slow")
    delivery = Delivery(db, {PLATFORM: port}, FakeClock(T0))
    await queue(db, (to_person("slow"), "held"))
    stop = asyncio.Event()
    running = asyncio.create_task(delivery.run(stop))
    try:
        await asyncio.wait_for(port.started.wait(), timeout=10)
        await queue(db, (to_person("quick"), "right away"))
        delivery.wake()
        await asyncio.wait_for(until_sent(db, 1), timeout=10)
        assert [p.text for p in port.log] == ["right away"]
    finally:
        port.release.set()
        stop.set()
        await asyncio.wait_for(running, timeout=10)
    assert sorted(p.text for p in port.log) == ["held", "right away"]


async def test_every_lease_is_planned_for_the_outbox_as_it_is_now(pg_db: Database) -> None:
    """An outbox swings from empty to thousands of messages in seconds: a plan PostgreSQL
    made for the lease while it was nearly empty, and kept reusing, searched the lane heads
    once per waiting message as the backlog grew (0.3-2 s a lease at 12,000 waiting)."""
    _, port, delivery = setup(pg_db)
    for n in range(8):
        await queue(pg_db, (to_person(f"U{n}"), f"reply {n}"))
        assert await delivery.drain_once() == (1, 1)
    assert len(port.log) == 8
    assert await lease_plans(pg_db, "outbox") == (0, 8)
