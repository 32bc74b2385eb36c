"""A post a channel gets once a week at a day and time in its ritual's zone (a digest): how
the setting is kept on the ritual row, and the claim that posts each week's once.

A kind keeps its runs in a table of its own with ``ritual_id``, ``local_date`` (unique
together), ``due_at`` and ``outcome``: `claim` inserts that week's row or finds it taken, so
the post goes out once across restarts and processes, late within the grace period, and is
recorded as missed (with a log line) after it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Hashable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, ClassVar

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.kinds import Slot
from rituals.runtime import Runtime
from rituals.schedule import Schedule, local_date, previous_run
from storage.models import Ritual
from storage.queries import insert_ignoring_conflicts

log = structlog.get_logger(__name__)

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# How long after its time a week's run is still looked at (and recorded as missed).
LOOKBACK = timedelta(hours=36)


@dataclass(frozen=True)
class Weekly:
    """ISO ``weekday`` (1 is Monday) and wall-clock ``at``."""

    weekday: int
    at: time

    @classmethod
    def of(cls, ritual: Ritual, key: str) -> Weekly | None:
        """The setting kept under ``key`` of the ritual's options, if any."""
        found = (ritual.options or {}).get(key)
        if not isinstance(found, dict):
            return None
        hour, minute = str(found["at"]).split(":")
        return cls(int(found["day"]), time(int(hour), int(minute)))

    def stored(self) -> dict[str, Any]:
        return {"day": self.weekday, "at": f"{self.at:%H:%M}"}

    def schedule(self, tz: str) -> Schedule:
        return Schedule(at=self.at, days=frozenset({self.weekday}), tz=tz)

    def describe(self, tz: str) -> str:
        return f"every {DAY_NAMES[self.weekday - 1]} at {self.at:%H:%M} ({tz})"


def set_on(ritual: Ritual, key: str, weekly: Weekly | None) -> None:
    """Keep ``weekly`` under ``key`` of the ritual's options (None removes it)."""
    options = {k: v for k, v in (ritual.options or {}).items() if k != key}
    ritual.options = options if weekly is None else {**options, key: weekly.stored()}


@dataclass(frozen=True)
class Claimed:
    run_id: int
    due: datetime


async def claim(
    session: AsyncSession,
    ritual: Ritual,
    weekly: Weekly,
    runs: Any,
    now: datetime,
    grace: timedelta,
) -> Claimed | None:
    """The week's run last due for ``ritual``, claimed by inserting its row in ``runs``;
    None when none is due (or was due before the setting changed), another process has it,
    or it came past the grace period (then recorded as missed, with a log line)."""
    due = previous_run(weekly.schedule(ritual.tz), now, horizon_days=8)
    if due is None or due < ritual.updated_at:
        return None
    if now - due > max(LOOKBACK, 2 * grace):
        return None
    late = now - due > grace
    stmt = insert_ignoring_conflicts(session, runs, ["ritual_id", "local_date"])
    claimed = await session.execute(
        stmt.values(
            ritual_id=ritual.id,
            local_date=local_date(due, ritual.tz),
            due_at=due,
            outcome="missed" if late else "posted",
        ).returning(runs.id)
    )
    run_id = claimed.scalar_one_or_none()
    if run_id is None:
        return None
    if late:
        log.warning(
            "weekly post skipped: past the grace period", kind=ritual.kind, ritual_id=ritual.id
        )
        return None
    return Claimed(run_id, due)


class WeeklyPosts:
    """What the scheduler asks a kind with a weekly post for: its rituals' versions, each
    one's slot, and each week's post, claimed once. A kind names its ritual ``kind``, the
    ``option`` its setting is kept under and its ``runs`` table, and says how to `post`."""

    kind: ClassVar[str]
    option: ClassVar[str]
    runs: ClassVar[Any]

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def post(
        self, session: AsyncSession, ritual: Ritual, claimed: Claimed, now: datetime
    ) -> None:
        """Queue this week's post, in the unit of work that claimed it."""
        raise NotImplementedError

    async def versions(
        self, session: AsyncSession, ritual_ids: Collection[int] | None = None
    ) -> dict[int, Hashable]:
        query = select(Ritual).where(Ritual.kind == self.kind)
        if ritual_ids is not None:
            query = query.where(Ritual.id.in_(list(ritual_ids)))
        rituals = (await session.execute(query)).scalars().all()
        return {r.id: (r.version, r.tz) for r in rituals if Weekly.of(r, self.option) is not None}

    async def slots(self, ritual_id: int) -> list[Slot]:
        async with self.rt.db.session() as session:
            ritual = await session.get(Ritual, ritual_id)
        found = Weekly.of(ritual, self.option) if ritual is not None and not ritual.paused else None
        if ritual is None or found is None:
            return []
        run: Callable[..., Awaitable[object]] = self.post_due
        return [Slot("digest", found.schedule(ritual.tz), run, (ritual_id,))]

    async def catch_up(self) -> int:
        async with self.rt.db.session() as session:
            ritual_ids = list((await self.versions(session)).keys())
        return sum([await self.post_due(ritual_id) for ritual_id in ritual_ids])

    async def post_due(self, ritual_id: int) -> int:
        """Post the week's post last due, once; late past the grace period, record it missed."""
        now = self.rt.clock.now()
        async with self.rt.db.session() as session:
            ritual = await session.get(Ritual, ritual_id)
            found = Weekly.of(ritual, self.option) if ritual is not None else None
            if ritual is None or found is None or ritual.paused:
                return 0
            claimed = await claim(session, ritual, found, self.runs, now, self.rt.grace)
            if claimed is None:
                return 0
            await self.post(session, ritual, claimed, now)
        self.rt.sent_later()
        return 1
