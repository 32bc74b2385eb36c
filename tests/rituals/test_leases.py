"""Claims a crash leaves behind: a dead replica's pass on within a lease, a restarted
process takes back its predecessor's at once, and a live worker's are never taken."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from handlers.journal import Journal
from rituals import leases
from rituals.clock import FakeClock
from rituals.delivery import Delivery
from rituals.messages import Message
from rituals.outbound import queue
from storage.db import Database
from storage.journal import Arrival
from storage.models import JournalEntry, OutboxMessage
from storage.outbox import Envelope
from tests.helpers import PLATFORM, RecordingPort

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def a_dead_process_here() -> str:
    """The worker id a process on this host had before it exited."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return leases.worker_id(object()).split(":")[0] + f":{child.stdout.strip()}:dead"


async def claim_as(db: Database, model: type, worker: str, until: datetime) -> None:
    async with db.session() as session:
        await session.execute(update(model).values(claimed_by=worker, claimed_until=until))


async def journal_with_one_request(db: Database, clock: FakeClock) -> tuple[Journal, list[str]]:
    handled: list[str] = []

    async def handler(entry: JournalEntry) -> None:
        handled.append(entry.body)

    worker = Journal(db, clock)
    worker.handles("p", handler)
    await worker.append(Arrival("p", "d1", "p:T1:U1", "text/plain", "hello"))
    return worker, handled


async def test_a_dead_replicas_claims_pass_to_a_live_one_within_a_lease(db: Database) -> None:
    clock = FakeClock(NOW)
    worker, handled = await journal_with_one_request(db, clock)
    await claim_as(db, JournalEntry, "elsewhere:1:gone", NOW + leases.LEASE)

    await worker.drain()
    assert handled == []
    clock.advance(leases.LEASE + timedelta(seconds=1))
    await worker.drain()
    assert handled == ["hello"]
    assert timedelta(seconds=20) >= leases.LEASE


async def test_a_restarted_process_takes_back_its_predecessors_claims_at_once(
    db: Database,
) -> None:
    clock = FakeClock(NOW)
    worker, handled = await journal_with_one_request(db, clock)
    await claim_as(db, JournalEntry, a_dead_process_here(), NOW + timedelta(minutes=5))

    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    for _ in range(200):
        if handled:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await running
    assert handled == ["hello"]


async def test_a_live_workers_claims_on_this_host_are_left_alone(db: Database) -> None:
    clock = FakeClock(NOW)
    worker, _handled = await journal_with_one_request(db, clock)
    alive = leases.worker_id(worker)  # this very process
    await claim_as(db, JournalEntry, alive, NOW + timedelta(minutes=5))
    assert await leases.take_back(db, JournalEntry, NOW) == 0
    async with db.session() as session:
        row = (await session.execute(select(JournalEntry))).scalar_one()
    assert row.claimed_by == alive


async def test_outbox_claims_of_a_stopped_process_are_taken_back_at_start(db: Database) -> None:
    clock = FakeClock(NOW)
    port = RecordingPort()
    async with db.session() as session:
        await queue(
            session, Envelope(PLATFORM, "W1", "direct", user="ana"), Message(text="hi"), NOW
        )
    await claim_as(db, OutboxMessage, a_dead_process_here(), NOW + timedelta(minutes=3))
    delivery = Delivery(db, {PLATFORM: port}, clock)
    stop = asyncio.Event()
    running = asyncio.create_task(delivery.run(stop))
    for _ in range(200):
        if port.log:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await running
    assert [p.text for p in port.log] == ["hi"]


async def test_leases_are_renewed_while_the_work_takes_longer_than_one(db: Database) -> None:
    clock = FakeClock(NOW)
    _worker, _ = await journal_with_one_request(db, clock)
    short = timedelta(seconds=0.3)
    await claim_as(db, JournalEntry, "me", NOW + short)
    async with leases.renewed(db, JournalEntry, "me", lambda: NOW + timedelta(hours=1), short):
        await asyncio.sleep(0.25)
    async with db.session() as session:
        row = (await session.execute(select(JournalEntry))).scalar_one()
    assert row.claimed_until is not None and row.claimed_until > NOW + timedelta(minutes=30)
