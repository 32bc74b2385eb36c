"""Backlog list benchmark: `backlog list data p1` and `backlog list eval @owner` over a
channel of 1k, 10k and 100k items, on SQLite and PostgreSQL.

For each list it times the first page (the typed command, end to end through the router,
its reply queued) and a page half-way down the list reached by pressing Next (keyset: the
button carries the last key shown), and prints the query plan of that deep page. The
baseline loads every item of the channel and filters, sorts and slices in Python, as a
first version without indexes would. Times are the best of ``--repeat`` runs (the machine's
other load only ever adds to a run), with the median beside them. Run:
`.venv/bin/python bench/backlog.py [--sizes 1000,10000,100000] [--postgres DSN]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import ColumnElement, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.kinds import registry
from rituals.backlog import grammar as g
from rituals.backlog import listing
from rituals.backlog.models import BacklogItem
from rituals.clock import FakeClock
from rituals.identity import Actor, Place
from rituals.messages import Message
from rituals.router import Rituals
from rituals.runtime import Runtime
from storage.db import Database
from storage.models import Member, Ritual

START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
PLACE = Place("C-bench", "bench")
LEAD = Actor("bench", "W", "lead", "Lead", "UTC")
OWNERS = 20
BATCH = 5000
LISTS = (("data p1", "type + priority"), ("eval @m3", "type + owner"))


async def prepare(url: str, size: int) -> tuple[Database, Rituals, int]:
    """A channel with ``size`` items: types, priorities and owners spread evenly, 70% open,
    25% done, 5% dropped."""
    db = Database(url)
    await db.upgrade()
    rituals = Rituals(Runtime(db=db, clock=FakeClock(START)), registry())
    await rituals.command(LEAD, PLACE, "backlog add Kick-off")
    picks = random.Random(12)
    async with db.session() as session:
        ritual = (await session.execute(select(Ritual))).scalar_one()
        workspace = await session.scalar(select(Member.workspace_id).limit(1))
        await session.execute(
            Member.__table__.insert(),
            [
                {"workspace_id": workspace, "external_id": f"U{n}", "name": f"m{n}", "tz": "UTC"}
                for n in range(OWNERS)
            ],
        )
        owners = list((await session.execute(select(Member.id).where(Member.name != ""))).scalars())
        ritual_id = ritual.id
    for at in range(2, size + 1, BATCH):
        rows = []
        for number in range(at, min(at + BATCH, size + 1)):
            state = picks.choices(("open", "doing", "done", "dropped"), (60, 10, 25, 5))[0]
            when = START + timedelta(seconds=number)
            rows.append(
                {
                    "ritual_id": ritual_id,
                    "number": number,
                    "type": picks.choice(g.TYPES),
                    "priority": picks.randrange(4),
                    "state": state,
                    "phase": "open" if state in ("open", "doing") else state,
                    "title": f"Item {number}",
                    "description": "",
                    "link": "",
                    "owner_id": picks.choice([*owners, None]),
                    "created_at": when,
                    "updated_at": when,
                }
            )
        async with db.session() as session:
            await session.execute(BacklogItem.__table__.insert(), rows)
    async with db.engine.begin() as conn:
        await conn.execute(text("ANALYZE"))
    return db, rituals, ritual_id


class Timing(float):
    """The best time of several runs; ``median`` beside it."""

    median: float = 0.0

    def ms(self) -> str:
        return f"{self * 1000:8.2f} ms (median {self.median * 1000:7.2f})"


async def median(repeat: int, run: Callable[[], Awaitable[object]]) -> Timing:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        times.append(time.perf_counter() - started)
    best = Timing(min(times))
    best.median = statistics.median(times)
    return best


def button(message: Message, label: str) -> str:
    return next(b.value for b in message.buttons if b.label == label)


async def deep_value(rituals: Rituals, words: str) -> tuple[str, int] | None:
    """The Next button that leads half-way down the list, reached by pressing Next; its
    value and the page it shows (None for a list of one page)."""
    reply = await rituals.command(LEAD, PLACE, f"backlog list {words}")
    assert reply is not None
    pages = 1
    values = []
    while any(b.label == "Next" for b in reply.message.buttons):
        values.append(button(reply.message, "Next"))
        reply = await rituals.action(LEAD, PLACE, listing.PAGE_ACTION, values[-1])
        assert reply is not None
        pages += 1
    if not values:
        return None
    middle = len(values) // 2
    return values[middle], middle + 2


async def conditions(db: Database, words: str) -> list[ColumnElement[bool]]:
    """The list's conditions, as `listing.conditions` builds them for the command."""
    filters = g.filters(words.split(), words)
    async with db.session() as session:
        owner = await session.scalar(select(Member.id).where(Member.name == "m3"))
    where = [BacklogItem.phase == "open"]
    if filters.type:
        where.append(BacklogItem.type == filters.type)
    if filters.priority is not None:
        where.append(BacklogItem.priority == filters.priority)
    if filters.owner:
        where.append(BacklogItem.owner_id == owner)
    return where


def fixed(words: str) -> bool:
    return g.filters(words.split(), words).priority is not None


async def query(db: Database, ritual_id: int, words: str, key: tuple[int, int] | None) -> None:
    """The page's select alone: the first page, or the one after ``key``."""
    where = await conditions(db, words)
    async with db.session() as session:
        found = await listing.page(
            session, ritual_id, where, after=key, fixed_priority=fixed(words)
        )
    assert found.views


async def plan(db: Database, ritual_id: int, words: str, key: tuple[int, int]) -> list[str]:
    """The database's plan for the deep page's select."""
    where = await conditions(db, words)
    page = listing.page_query(ritual_id, where, after=key, fixed_priority=fixed(words))
    sql = str(page.compile(db.engine, compile_kwargs={"literal_binds": True}))
    explain = "EXPLAIN QUERY PLAN " if db.dialect == "sqlite" else "EXPLAIN "
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text(explain + sql))).all()
    return [str(r[-1]) for r in rows]


async def baseline(db: Database, ritual_id: int, words: str, page: int) -> None:
    """Every item of the channel loaded, then filtered, sorted and sliced in Python."""
    filters = g.filters(words.split(), words)
    async with db.session() as session:
        owner = await session.scalar(select(Member.id).where(Member.name == "m3"))
        found = (
            await session.execute(select(BacklogItem).where(BacklogItem.ritual_id == ritual_id))
        ).scalars()
        kept = [
            i
            for i in found
            if i.phase == "open"
            and (filters.type is None or i.type == filters.type)
            and (filters.priority is None or i.priority == filters.priority)
            and (filters.owner is None or i.owner_id == owner)
        ]
        kept.sort(key=lambda i: (i.priority, i.number))
        assert kept[(page - 1) * listing.PAGE : page * listing.PAGE] is not None


async def run(url: str, size: int, repeat: int, show_plans: bool) -> list[str]:
    db, rituals, ritual_id = await prepare(url, size)
    base_repeat = max(1, min(repeat, 3))  # loading every item is slow by design
    lines = []
    try:
        for words, what in LISTS:
            first = await median(
                repeat, lambda w=words: rituals.command(LEAD, PLACE, f"backlog list {w}")
            )
            found = await deep_value(rituals, words)
            if found is None:
                lines.append(f"items={size:<7d} list {words!r:11s}: one page only, skipped")
                continue
            value, page = found
            deep = await median(
                repeat, lambda v=value: rituals.action(LEAD, PLACE, listing.PAGE_ACTION, v)
            )
            read = listing.read_page_value(value.split("|", 2)[2].split("|", 4))
            assert read is not None
            key = read[2]
            q_first = await median(repeat, lambda w=words: query(db, ritual_id, w, None))
            q_deep = await median(repeat, lambda w=words, k=key: query(db, ritual_id, w, k))
            base_first = await median(base_repeat, lambda w=words: baseline(db, ritual_id, w, 1))
            base_deep = await median(
                base_repeat, lambda w=words, p=page: baseline(db, ritual_id, w, p)
            )
            lines.append(
                f"items={size:<7d} list {words!r} ({what}), page 1 and page {page} by Next:\n"
                f"    command  {first.ms()}  {deep.ms()}\n"
                f"    query    {q_first.ms()}  {q_deep.ms()}\n"
                f"    baseline {base_first.ms()}  {base_deep.ms()}\n"
                f"    ratio query/baseline x{q_first / base_first:.4f}, x{q_deep / base_deep:.4f}"
            )
            if show_plans:
                for step in await plan(db, ritual_id, words, key):
                    lines.append(f"    plan: {step}")
    finally:
        await db.dispose()
    return lines


async def postgres_url(dsn: str, size: int) -> tuple[str, str]:
    name = f"ritualbot_bench_backlog_{os.getpid()}_{size}"
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}", name


async def drop(dsn: str, name: str) -> None:
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--plans", action="store_true", help="print each deep page's plan")
    parser.add_argument(
        "--postgres",
        metavar="DSN",
        help="run on PostgreSQL, e.g. postgresql://postgres@127.0.0.1:5432/test",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}, page size {listing.PAGE}")
    for size in sizes:
        if args.postgres:
            url, name = await postgres_url(args.postgres, size)
            try:
                lines = await run(url, size, args.repeat, args.plans)
            finally:
                await drop(args.postgres, name)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite+aiosqlite:///{Path(tmp) / 'backlog.db'}"
                lines = await run(url, size, args.repeat, args.plans)
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
