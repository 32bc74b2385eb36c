"""Fan-out benchmark: one stand-up started for 2,000 members, prompts sent through a chat port.

Reports prompts per second, database round-trips per prompt and peak Python memory for the
engine's path (`standup now` then the outbox drain), next to a baseline that does the same
work the straightforward way: one transaction per member to store the prompt, then one
send and one update per message. Run: `.venv/bin/python bench/fanout.py [--members N]
[--database URL]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, select, update

from bot.kinds import registry
from rituals import outbound
from rituals.clock import Clock, FakeClock
from rituals.delivery import Delivery
from rituals.identity import Actor, Place
from rituals.messages import Message
from rituals.port import Sent
from rituals.router import Rituals
from rituals.runtime import Runtime
from rituals.standup import settings as cfg
from rituals.standup.roster import question_message
from storage import outbox
from storage.db import Database
from storage.models import Member, Occurrence, OutboxMessage, Participant, Response, Ritual
from storage.outbox import Envelope

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
PLACE = Place("C-bench", "bench")


class NullPort:
    """A platform that accepts everything instantly, so only our own costs are measured."""

    platform = "bench"

    def __init__(self) -> None:
        self.sent = 0
        self._refs = itertools.count()

    async def _take(self) -> Sent:
        self.sent += 1
        await asyncio.sleep(0)
        return Sent("D", str(next(self._refs)))

    async def post(
        self, workspace: str, channel: str, message: Message, *, thread: str | None = None
    ) -> Sent:
        return await self._take()

    async def direct(self, workspace: str, user: str, message: Message) -> Sent:
        return await self._take()

    async def update(self, workspace: str, sent: Sent, message: Message) -> Sent:
        return await self._take()

    async def ephemeral(
        self, workspace: str, channel: str, user: str, message: Message, *, via: str | None = None
    ) -> Sent:
        return await self._take()


@dataclass
class Result:
    name: str
    prompts: int
    seconds: float
    statements: int
    peak_bytes: int

    @property
    def per_second(self) -> float:
        return self.prompts / self.seconds

    @property
    def round_trips(self) -> float:
        return self.statements / self.prompts

    def line(self) -> str:
        return (
            f"{self.name:9s} prompts={self.prompts} time={self.seconds:.2f}s "
            f"prompts/s={self.per_second:,.0f} round-trips/prompt={self.round_trips:.3f} "
            f"peak-memory={self.peak_bytes / 2**20:.1f} MiB"
        )


class StatementCounter:
    def __init__(self, db: Database) -> None:
        self.count = 0
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


async def prepare(
    url: str, members: int, *, platform: str = "bench", clock: Clock | None = None
) -> tuple[Database, Rituals, Clock]:
    """A channel's stand-up with ``members`` participants (the lead included), replies sent."""
    db = Database(url)
    await db.upgrade()
    clock = clock or FakeClock(START)
    rituals = Rituals(Runtime(db=db, clock=clock), registry())
    lead = Actor(platform, "W", "lead", "Lead", "UTC")
    await rituals.command(lead, PLACE, "standup setup at 09:30 tz UTC")
    async with db.session() as session:
        ritual = (await session.execute(select(Ritual))).scalar_one()
        rows = [
            {
                "workspace_id": ritual.channel.workspace_id,
                "external_id": f"U{i:05d}",
                "name": f"m{i}",
                "tz": "UTC",
            }
            for i in range(members - 1)
        ]
        await session.execute(Member.__table__.insert(), rows)
        ids = (
            await session.execute(select(Member.id).where(Member.external_id != "lead"))
        ).scalars()
        await session.execute(
            Participant.__table__.insert(), [{"ritual_id": ritual.id, "member_id": i} for i in ids]
        )
        await session.execute(update(OutboxMessage).values(status="sent"))
    return db, rituals, clock


async def ours(url: str, members: int) -> Result:
    db, rituals, clock = await prepare(url, members)
    port = NullPort()
    delivery = Delivery(db, {"bench": port}, clock)
    counter = StatementCounter(db)
    lead = Actor("bench", "W", "lead", "Lead", "UTC")
    tracemalloc.start()
    started = time.perf_counter()
    await rituals.command(lead, PLACE, "standup now")
    await delivery.drain()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    prompts = port.sent - 1  # the channel reply to `standup now`
    await db.dispose()
    return Result("ritualbot", prompts, seconds, counter.count, peak)


async def baseline(url: str, members: int) -> Result:
    """Store, send and mark each prompt on its own: what a first version would do."""
    db, _rituals, clock = await prepare(url, members)
    port = NullPort()
    counter = StatementCounter(db)
    tracemalloc.start()
    started = time.perf_counter()
    async with db.session() as session:
        ritual = (await session.execute(select(Ritual))).scalar_one()
        people = list(
            (
                await session.execute(
                    select(Member).join(Participant, Participant.member_id == Member.id)
                )
            ).scalars()
        )
        occurrence = Occurrence(
            ritual_id=ritual.id,
            scheduled_at=START,
            local_date=START.date(),
            started_at=START,
            summary_due_at=START,
            questions=cfg.of(ritual).questions,
            status="open",
            manual=True,
        )
        session.add(occurrence)
    for member in people:
        async with db.session() as session:
            session.add(
                Response(
                    occurrence_id=occurrence.id,
                    member_id=member.id,
                    prompted_at=START,
                    next_question=0,
                )
            )
            message = question_message(cfg.of(ritual).questions, "bench", 0)
            msg_id = await outbound.queue(
                session,
                Envelope("bench", "W", "direct", user=member.external_id),
                message,
                clock.now(),
            )
        sent = await port.direct("W", member.external_id, message)
        async with db.session() as session:
            await outbox.mark_sent(session, [(msg_id, sent.channel, sent.ref)], clock.now())
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    await db.dispose()
    return Result("baseline", port.sent, seconds, counter.count, peak)


@contextlib.asynccontextmanager
async def fresh_databases(postgres: str | None) -> AsyncIterator[list[str]]:
    """Two empty databases: SQLite files by default, or PostgreSQL ones made and dropped."""
    if postgres is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield [f"sqlite+aiosqlite:///{Path(tmp) / name}.db" for name in ("a", "b")]
        return
    names = [f"ritualbot_bench_{os.getpid()}_{n}" for n in ("a", "b")]
    admin = await asyncpg.connect(postgres)
    try:
        for name in names:
            await admin.execute(f'CREATE DATABASE "{name}"')
        base = postgres.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        yield [f"{base}/{name}" for name in names]
    finally:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument(
        "--postgres",
        metavar="DSN",
        help="run on PostgreSQL, e.g. postgresql://postgres@127.0.0.1:5432/test",
    )
    args = parser.parse_args()
    async with fresh_databases(args.postgres) as urls:
        mine = await ours(urls[0], args.members)
        base = await baseline(urls[1], args.members)
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}, members: {args.members}")
    print(mine.line())
    print(base.line())
    print(
        f"ratio (ritualbot / baseline): prompts/s x{mine.per_second / base.per_second:.2f}, "
        f"round-trips/prompt x{mine.round_trips / base.round_trips:.3f}, "
        f"peak memory x{mine.peak_bytes / base.peak_bytes:.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
