"""A post a channel gets once a week at a day and time in its ritual's zone (a digest): how
the setting is kept on the ritual row, and the claim that posts each week's once.

A kind keeps its runs in a table of its own with ``ritual_id``, ``local_date`` (unique
together), ``due_at`` and ``outcome``: `claim` inserts that week's row or finds it taken, so
the post goes out once across restarts and processes, late within the grace period, and is
recorded as missed (with a log line) after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

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
