"""Closing-a-retro benchmark: a board of 500 items and 50 voters, then `retro close`.

Reports database round-trips and time from the command to the delivered summary (the close,
then the outbox drain that posts the summary and updates the board), at a tenth of the items
and at all of them, next to a baseline that reads each item and its votes on its own. The
round-trips of a close must not grow with the number of items. Run:
`.venv/bin/python bench/retro.py [--items N] [--voters N] [--postgres DSN]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fanout import NullPort, StatementCounter, fresh_databases
from bot.kinds import registry
from rituals import outbound
from rituals.clock import FakeClock
from rituals.delivery import Delivery
from rituals.identity import Actor, Place
from rituals.messages import Message, Section
from rituals.retro.models import Retro, RetroItem, RetroVote, RetroVoter
from rituals.router import Rituals
from rituals.runtime import Runtime
from storage.db import Database
from storage.models import Member, OutboxMessage
from storage.outbox import Envelope

START = datetime(2030, 1, 11, 15, 0, tzinfo=UTC)
PLACE = Place("C-bench", "bench")
LEAD = Actor("bench", "W", "lead", "Lead", "UTC")
CATEGORIES = ("well", "improve", "idea", "action")
VOTES_EACH = 3


@dataclass
class Result:
    name: str
    items: int
    seconds: float
    statements: int

    def line(self) -> str:
        return (
            f"{self.name:9s} items={self.items} time={self.seconds * 1000:.1f} ms "
            f"round-trips={self.statements}"
        )


async def prepare(url: str, items: int, voters: int) -> tuple[Database, Rituals, FakeClock]:
    """An open retro with ``items`` items (a quarter of them action items naming an owner)
    and ``voters`` people who each used their three votes; every message already sent."""
    db = Database(url)
    await db.upgrade()
    clock = FakeClock(START)
    rituals = Rituals(Runtime(db=db, clock=clock), registry())
    await rituals.command(LEAD, PLACE, "retro start Bench sprint")
    picks = random.Random(7)
    async with db.session() as session:
        retro = (await session.execute(select(Retro))).scalar_one()
        workspace = await session.scalar(select(Member.workspace_id).limit(1))
        await session.execute(
            Member.__table__.insert(),
            [
                {
                    "workspace_id": workspace,
                    "external_id": f"U{n:04d}",
                    "name": f"m{n}",
                    "tz": "UTC",
                }
                for n in range(voters)
            ],
        )
        people = list(
            (await session.execute(select(Member.id).where(Member.external_id != "lead"))).scalars()
        )
        rows = [
            {
                "ritual_id": retro.ritual_id,
                "retro_id": retro.id,
                "category": CATEGORIES[n % 4],
                "text": f"Item {n} @m{n % voters} by 2030-02-01" if n % 4 == 3 else f"Item {n}",
                "author_id": people[n % len(people)],
            }
            for n in range(items)
        ]
        await session.execute(RetroItem.__table__.insert(), rows)
        ids = list((await session.execute(select(RetroItem.id))).scalars())
        votes = []
        for member in people:
            for item in picks.sample(ids, VOTES_EACH):
                votes.append(
                    {"retro_id": retro.id, "item_id": item, "member_id": member, "cast_at": START}
                )
        await session.execute(RetroVote.__table__.insert(), votes)
        await session.execute(
            RetroVoter.__table__.insert(),
            [{"retro_id": retro.id, "member_id": m, "used": VOTES_EACH} for m in people],
        )
        await session.execute(update(OutboxMessage).values(status="sent", sent_ref="b1"))
    return db, rituals, clock


async def ours(url: str, items: int, voters: int) -> Result:
    db, rituals, clock = await prepare(url, items, voters)
    delivery = Delivery(db, {"bench": NullPort()}, clock)
    counter = StatementCounter(db)
    started = time.perf_counter()
    await rituals.command(LEAD, PLACE, "retro close")
    await delivery.drain()
    seconds = time.perf_counter() - started
    await db.dispose()
    return Result("ritualbot", items, seconds, counter.count)


async def baseline(url: str, items: int, voters: int) -> Result:
    """What a first version would do: each item read with its own votes, then one summary."""
    db, _rituals, clock = await prepare(url, items, voters)
    delivery = Delivery(db, {"bench": NullPort()}, clock)
    counter = StatementCounter(db)
    started = time.perf_counter()
    async with db.session() as session:
        retro = (await session.execute(select(Retro).where(Retro.closed_at.is_(None)))).scalar_one()
        lines = []
        for item_id in (
            await session.execute(select(RetroItem.id).where(RetroItem.retro_id == retro.id))
        ).scalars():
            item = await session.get_one(RetroItem, item_id)
            count = await session.scalar(
                select(func.count()).select_from(RetroVote).where(RetroVote.item_id == item_id)
            )
            lines.append((count or 0, f"#{item.id} {item.text} ({item.category})"))
        lines.sort(key=lambda pair: -pair[0])
        retro.closed_at = clock.now()
        summary = Message(
            text=f"Retro summary: {retro.title}",
            sections=[Section(text="\n".join(f"{line} — {n}" for n, line in lines[:50]))],
        )
        envelope = Envelope("bench", "W", "post", channel=PLACE.channel)
        await outbound.queue(session, envelope, summary, clock.now())
    await delivery.drain()
    seconds = time.perf_counter() - started
    await db.dispose()
    return Result("baseline", items, seconds, counter.count)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--voters", type=int, default=50)
    parser.add_argument(
        "--postgres",
        metavar="DSN",
        help="run on PostgreSQL, e.g. postgresql://postgres@127.0.0.1:5432/test",
    )
    args = parser.parse_args()
    small = max(4, args.items // 10)
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}, voters: {args.voters}")
    results = []
    for count in (small, args.items):
        async with fresh_databases(args.postgres) as urls:
            mine = await ours(urls[0], count, args.voters)
            base = await baseline(urls[1], count, args.voters)
        results.append((mine, base))
        print(mine.line())
        print(base.line())
    (small_mine, _), (mine, base) = results
    print(
        f"ratio (ritualbot / baseline) at {args.items} items: "
        f"round-trips x{mine.statements / base.statements:.3f}, "
        f"time x{mine.seconds / base.seconds:.2f}; ritualbot round-trips at {small} items: "
        f"{small_mine.statements}, at {args.items}: {mine.statements}"
    )


if __name__ == "__main__":
    asyncio.run(main())
