"""Weekly hypothesis digest benchmark: a channel with 200 open hypotheses, each with daily
check-ins over 2 years, then the digest is posted.

Reports database round-trips and time from the scheduled run to the delivered digest, with
one month of history and with the whole of it, next to a baseline that reads each
hypothesis's series from its points. The digest's round-trips must not grow with the
length of the history, and its time barely. Run:
`.venv/bin/python bench/hypotheses.py [--hypotheses N] [--days N] [--postgres DSN]`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fanout import NullPort, StatementCounter, fresh_databases
from bot.kinds import registry
from rituals import outbound
from rituals.clock import FakeClock
from rituals.delivery import Delivery
from rituals.hypothesis import HypothesisKind
from rituals.hypothesis.models import Hypothesis, HypothesisPoint
from rituals.hypothesis.views import sparkline
from rituals.identity import Actor, Place
from rituals.messages import Message, Section
from rituals.router import Rituals
from rituals.runtime import Runtime
from storage.db import Database
from storage.models import OutboxMessage, Ritual
from storage.outbox import Envelope

DIGEST_AT = datetime(2030, 1, 11, 16, 0, tzinfo=UTC)  # a Friday
PLACE = Place("C-bench", "bench")
LEAD = Actor("bench", "W", "lead", "Lead", "UTC")
SENTENCE = (
    "hypothesis add We believe change {n} will result in better recall; "
    "we'll know when recall >= 0.9 by 2030-06-30"
)
BATCH = 20_000


@dataclass
class Result:
    name: str
    days: int
    points: int
    seconds: float
    statements: int

    def line(self) -> str:
        return (
            f"{self.name:9s} days={self.days} points={self.points} "
            f"time={self.seconds * 1000:.1f} ms round-trips={self.statements}"
        )


async def prepare(url: str, count: int, days: int) -> tuple[Database, Rituals, FakeClock, int]:
    """``count`` hypotheses with a daily check-in for each of the last ``days`` days."""
    db = Database(url)
    await db.upgrade()
    clock = FakeClock(DIGEST_AT - timedelta(days=days + 1))
    rituals = Rituals(Runtime(db=db, clock=clock), registry())
    for n in range(count):
        await rituals.command(LEAD, PLACE, SENTENCE.format(n=n))
    await rituals.command(LEAD, PLACE, "hypothesis digest fri 16:00")
    async with db.session() as session:
        ritual_id = (
            await session.execute(select(Ritual.id).where(Ritual.kind == "hypothesis"))
        ).scalar_one()
        ids = list((await session.execute(select(Hypothesis.id))).scalars())
        rows = []
        for h in ids:
            for d in range(days):
                rows.append(
                    {
                        "hypothesis_id": h,
                        "at": DIGEST_AT - timedelta(days=days - d),
                        "value": 0.5 + 0.4 * d / max(days, 1),
                        "status": "on-track",
                        "note": f"day {d}",
                    }
                )
                if len(rows) >= BATCH:
                    await session.execute(HypothesisPoint.__table__.insert(), rows)
                    rows = []
        if rows:
            await session.execute(HypothesisPoint.__table__.insert(), rows)
        recent = [0.5 + 0.4 * d / max(days, 1) for d in range(max(0, days - 12), days)]
        await session.execute(
            update(Hypothesis).values(
                state="testing",
                status="on-track",
                recent=recent,
                points=days,
                last_point_at=DIGEST_AT - timedelta(days=1),
                next_checkin_at=None,
            )
        )
        await session.execute(update(OutboxMessage).values(status="sent", sent_ref="b1"))
    clock.set(DIGEST_AT)
    return db, rituals, clock, ritual_id


async def ours(url: str, count: int, days: int) -> Result:
    db, rituals, clock, ritual_id = await prepare(url, count, days)
    kind = rituals.kinds["hypothesis"]
    assert isinstance(kind, HypothesisKind)
    delivery = Delivery(db, {"bench": NullPort()}, clock)
    counter = StatementCounter(db)
    started = time.perf_counter()
    assert await kind.digests.post_due(ritual_id) == 1
    await delivery.drain()
    seconds = time.perf_counter() - started
    await db.dispose()
    return Result("ritualbot", days, count * days, seconds, counter.count)


async def baseline(url: str, count: int, days: int) -> Result:
    """What a first version would do: each open hypothesis's series read from its points."""
    db, _rituals, clock, ritual_id = await prepare(url, count, days)
    delivery = Delivery(db, {"bench": NullPort()}, clock)
    counter = StatementCounter(db)
    started = time.perf_counter()
    async with db.session() as session:
        found = (
            await session.execute(select(Hypothesis).where(Hypothesis.ritual_id == ritual_id))
        ).scalars()
        lines = []
        for h in found:
            values = list(
                (
                    await session.execute(
                        select(HypothesisPoint.value)
                        .where(HypothesisPoint.hypothesis_id == h.id)
                        .order_by(HypothesisPoint.at)
                    )
                ).scalars()
            )
            shown = [v for v in values if v is not None][-12:]
            lines.append(f"#{h.number} {h.metric} {sparkline(shown, h.target)} — {h.belief}")
        digest = Message(text="Hypothesis digest", sections=[Section(text="\n".join(lines))])
        envelope = Envelope("bench", "W", "post", channel=PLACE.channel)
        await outbound.queue(session, envelope, digest, clock.now())
    await delivery.drain()
    seconds = time.perf_counter() - started
    await db.dispose()
    return Result("baseline", days, count * days, seconds, counter.count)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hypotheses", type=int, default=200)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument(
        "--postgres",
        metavar="DSN",
        help="run on PostgreSQL, e.g. postgresql://postgres@127.0.0.1:5432/test",
    )
    args = parser.parse_args()
    month = min(30, args.days)
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}, hypotheses: {args.hypotheses}")
    results = []
    for days in (month, args.days):
        async with fresh_databases(args.postgres) as urls:
            mine = await ours(urls[0], args.hypotheses, days)
            base = await baseline(urls[1], args.hypotheses, days)
        results.append((mine, base))
        print(mine.line())
        print(base.line())
    (short, short_base), (mine, base) = results
    print(
        f"ratio (ritualbot / baseline) at {args.days} days: "
        f"round-trips x{mine.statements / base.statements:.3f}, "
        f"time x{mine.seconds / base.seconds:.2f}; ritualbot round-trips at {month} days: "
        f"{short.statements}, at {args.days}: {mine.statements}; "
        f"time x{mine.seconds / short.seconds:.2f} from {month} to {args.days} days "
        f"(baseline x{base.seconds / short_base.seconds:.2f})"
    )


if __name__ == "__main__":
    asyncio.run(main())
