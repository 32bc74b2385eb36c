"""Retros on a cadence: every N weeks on a weekday at a wall-clock time in the channel's zone.

The scheduler fires weekly on that day (a `Slot`); the run checks the week against the
series' anchor date, and claims the date with a unique (ritual, date) row, so each scheduled
retro opens once across processes. A date due before the cadence was set is never missed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Hashable
from datetime import date, datetime, time, timedelta

import structlog
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import permissions
from rituals.context import CommandContext
from rituals.kinds import Slot
from rituals.reply import Reply, say
from rituals.retro.channel import KIND, existing_ritual, last_retro, ritual_for
from rituals.retro.grammar import RetroSchedule
from rituals.retro.models import RetroRun, RetroSeries
from rituals.retro.opening import Settings, open_board, title_for
from rituals.runtime import Runtime
from rituals.schedule import Schedule, local_date, next_run, previous_run
from storage.models import Channel, Ritual
from storage.queries import insert_ignoring_conflicts

log = structlog.get_logger(__name__)

LOOKBACK = timedelta(hours=36)  # how long after its time a date is still recorded as missed
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def weekly(series: RetroSeries, tz: str) -> Schedule:
    hour, minute = series.at.split(":")
    return Schedule(at=time(int(hour), int(minute)), days=frozenset({series.weekday}), tz=tz)


def on_cadence(series: RetroSeries, day: date) -> bool:
    weeks = (day - series.anchor).days // 7
    return day >= series.anchor and weeks % series.every_weeks == 0


def last_due(series: RetroSeries, tz: str, now: datetime) -> datetime | None:
    """The latest scheduled instant at or before ``now``, if the series had one by then."""
    schedule = weekly(series, tz)
    due = previous_run(schedule, now, horizon_days=9)
    while due is not None and due >= series.since:
        day = local_date(due, tz)
        if day < series.anchor:
            return None
        if on_cadence(series, day):
            return due
        due = previous_run(schedule, due - timedelta(seconds=1), horizon_days=9)
    return None


def describe(series: RetroSeries, tz: str) -> str:
    every = "every week" if series.every_weeks == 1 else f"every {series.every_weeks} weeks"
    return f"{every} on {DAY_NAMES[series.weekday - 1]} at {series.at} ({tz})"


async def set_cadence(ctx: CommandContext, channel: Channel, command: RetroSchedule) -> Reply:
    session = ctx.session
    ritual = await ritual_for(session, channel, ctx.member.tz, ctx.now)
    if not await permissions.may_change(ctx, ritual):
        return say(
            f"Only {await permissions.who_may(ctx, ritual)} can schedule this channel's retros."
        )
    tz = command.tz or ritual.tz
    series = await session.get(RetroSeries, ritual.id)
    if series is None:
        series = RetroSeries(ritual_id=ritual.id)
        session.add(series)
    series.every_weeks = command.every_weeks
    series.weekday = command.weekday
    series.at = command.at.strftime("%H:%M")
    series.since = ctx.now
    first = next_run(weekly(series, tz), ctx.now)
    assert first is not None  # a weekly schedule without skip dates always runs again
    series.anchor = local_date(first, tz)
    _changed(ctx, ritual, tz)
    return say(
        f"Retros {describe(series, tz)}; the first opens on {series.anchor.isoformat()}.",
        public=True,
        context="Each opens with the settings of the last retro here; `retro schedule off` stops.",
    )


async def unset_cadence(ctx: CommandContext, channel: Channel) -> Reply:
    ritual = await existing_ritual(ctx.session, channel.id)
    if ritual is None or await ctx.session.get(RetroSeries, ritual.id) is None:
        return say("Retros are not scheduled in this channel.")
    if not await permissions.may_change(ctx, ritual):
        return say(
            f"Only {await permissions.who_may(ctx, ritual)} can unschedule this channel's retros."
        )
    await ctx.session.execute(delete(RetroSeries).where(RetroSeries.ritual_id == ritual.id))
    _changed(ctx, ritual, ritual.tz)
    return say("Scheduled retros are off; `retro start` still opens one.", public=True)


def _changed(ctx: CommandContext, ritual: Ritual, tz: str) -> None:
    """A new cadence or zone; whoever first schedules a channel's retros leads them."""
    ritual.tz = tz
    if ritual.lead_member_id is None:
        ritual.lead_member_id = ctx.member.id
    ctx.ritual_changed(ritual)


class Cadence:
    """What the scheduler asks the retro kind for: versions, slots, and the runs."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def versions(
        self, session: AsyncSession, ritual_ids: Collection[int] | None = None
    ) -> dict[int, Hashable]:
        query = (
            select(Ritual.id, Ritual.version)
            .join(RetroSeries, RetroSeries.ritual_id == Ritual.id)
            .where(Ritual.kind == KIND)
        )
        if ritual_ids is not None:
            query = query.where(Ritual.id.in_(list(ritual_ids)))
        rows = await session.execute(query)
        return dict(rows.tuples().all())

    async def slots(self, ritual_id: int) -> list[Slot]:
        async with self.rt.db.session() as session:
            ritual = await session.get(Ritual, ritual_id)
            series = await session.get(RetroSeries, ritual_id)
        if ritual is None or series is None or ritual.paused:
            return []
        run: Callable[..., Awaitable[object]] = self.start_due
        return [Slot("start", weekly(series, ritual.tz), run, (ritual_id,))]

    async def catch_up(self) -> int:
        async with self.rt.db.session() as session:
            ritual_ids = list((await self.versions(session)).keys())
        started = 0
        for ritual_id in ritual_ids:
            started += await self.start_due(ritual_id)
        return started

    async def start_due(self, ritual_id: int) -> int:
        """Open the retro the cadence last called for, once; 1 when this call opened it.

        Run late within the grace period, it still opens; later than that, the date is
        recorded as missed with a log line, and nothing opens.
        """
        now = self.rt.clock.now()
        async with self.rt.db.session() as session:
            ritual = await session.get(Ritual, ritual_id)
            series = await session.get(RetroSeries, ritual_id)
            if ritual is None or series is None or ritual.paused:
                return 0
            due = last_due(series, ritual.tz, now)
            if due is None or now - due > max(LOOKBACK, 2 * self.rt.grace):
                return 0
            day = local_date(due, ritual.tz)
            late = now - due > self.rt.grace
            run_id = await self._claim(session, ritual, day, due, "missed" if late else "started")
            if run_id is None:
                return 0
            if late:
                log.warning(
                    "scheduled retro skipped: no process was up within the grace period",
                    ritual_id=ritual.id,
                    day=day.isoformat(),
                    late_by_s=int((now - due).total_seconds()),
                )
                return 0
            settings = Settings.like(await last_retro(session, ritual.id), title_for(day))
            retro = await open_board(session, ritual, settings, now, facilitator_id=None)
            run = await session.get_one(RetroRun, run_id)
            if retro is None:
                run.outcome = "busy"
                log.info("scheduled retro not opened: one is open", ritual_id=ritual.id)
                return 0
            run.retro_id = retro.id
        self.rt.sent_later()
        return 1

    async def _claim(
        self, session: AsyncSession, ritual: Ritual, day: date, due: datetime, outcome: str
    ) -> int | None:
        stmt = insert_ignoring_conflicts(session, RetroRun, ["ritual_id", "local_date"])
        result = await session.execute(
            stmt.values(ritual_id=ritual.id, local_date=day, due_at=due, outcome=outcome).returning(
                RetroRun.id
            )
        )
        return result.scalar_one_or_none()
