"""APScheduler, driven from the database: jobs are derived from rituals, never stored.

APScheduler 3 must not share a job store between processes, so each process builds its own
jobs from the ritual rows and the database claim decides which process does the work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import select

from rituals.router import Rituals
from rituals.schedule import Schedule, next_run
from rituals.standup import settings as cfg
from rituals.standup.roster import KIND
from storage.models import Member, Participant, Ritual

log = structlog.get_logger(__name__)


class RitualTrigger(BaseTrigger):
    """Fires on the ritual's days at its wall-clock time, skipping skip dates and holidays.

    A new job looks back ``grace`` for its first run, so rebuilding jobs just after a run
    time (a setting changed at 09:30:05) still runs it; the database claim makes that safe.
    """

    def __init__(self, schedule: Schedule, grace: timedelta = timedelta(0)) -> None:
        self.schedule = schedule
        self.grace = grace

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is not None:
            return next_run(self.schedule, previous_fire_time)
        return next_run(self.schedule, now - self.grace - timedelta(microseconds=1))

    def __str__(self) -> str:
        return f"ritual[{self.schedule.at:%H:%M} {self.schedule.tz}]"


def job_prefix(ritual_id: int) -> str:
    return f"{KIND}:{ritual_id}:"


SHUTDOWN_WAIT_SECONDS = 5.0


class RitualScheduler:
    """One per process: prompt jobs per ritual and timezone, plus sweep and resync."""

    def __init__(
        self,
        rituals: Rituals,
        *,
        grace: timedelta = timedelta(hours=1),
        sweep_every: timedelta = timedelta(seconds=15),
        resync_every: timedelta = timedelta(seconds=60),
    ) -> None:
        self.rituals = rituals
        self.grace = grace
        self.sweep_every = sweep_every
        self.resync_every = resync_every
        self.aps = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                "misfire_grace_time": int(grace.total_seconds()),
                "coalesce": True,
                "max_instances": 1,
            },
        )
        self._seen: dict[int, tuple[int, tuple[str, ...]]] = {}
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._dirty: set[int] = set()
        self._running: set[int] = set()
        self._busy: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        self.aps.add_listener(self._missed, EVENT_JOB_MISSED)
        self.aps.start()
        await self.resync()
        started = await self.rituals.standups.catch_up()
        if started:
            log.info("caught up on prompts due while down", prompts=started)
        self.aps.add_job(
            self._tracked(self.rituals.standups.sweep),
            "interval",
            id="sweep",
            seconds=self.sweep_every.total_seconds(),
        )
        self.aps.add_job(
            self._tracked(self.resync),
            "interval",
            id="resync",
            seconds=self.resync_every.total_seconds(),
        )

    def _tracked(self, job: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """A job whose runs :meth:`shutdown` waits for, so none is cut off mid-transaction."""

        async def run(*args: Any) -> Any:
            task = asyncio.current_task()
            assert task is not None
            self._busy.add(task)
            try:
                return await job(*args)
            finally:
                self._busy.discard(task)

        return run

    async def shutdown(self) -> None:
        """Start nothing more, let runs and rebuilds under way finish (within 5 s), then
        stop: a run cancelled mid-transaction can leave its connection closing forever."""
        if not self.aps.running:
            return
        self.aps.pause()
        under_way = self._busy | self._tasks
        if under_way:
            await asyncio.wait(under_way, timeout=SHUTDOWN_WAIT_SECONDS)
        self.aps.shutdown(wait=False)

    def changed(self, ritual_id: int) -> None:
        """Runtime callback: a command changed this ritual, so rebuild its jobs soon.

        Changes that arrive while a rebuild is pending or running fold into one more
        rebuild, so a burst of joins costs two rebuilds, not one each.
        """
        self._seen.pop(ritual_id, None)
        if ritual_id in self._dirty:
            return
        self._dirty.add(ritual_id)
        if ritual_id in self._running:
            return
        task = asyncio.get_running_loop().create_task(self._rebuild(ritual_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _rebuild(self, ritual_id: int) -> None:
        self._running.add(ritual_id)
        try:
            while ritual_id in self._dirty:
                self._dirty.discard(ritual_id)
                await self.sync(ritual_id)
        finally:
            self._running.discard(ritual_id)

    async def settled(self) -> None:
        """Wait for job rebuilds that :meth:`changed` started."""
        await asyncio.gather(*self._tasks)

    async def resync(self) -> None:
        """Rebuild the jobs of rituals changed since last time, here or by another process.

        A ritual's jobs depend on its settings (its version) and on its participants' zones;
        channel rosters are refreshed first, as they change who takes part.
        """
        try:
            await self.rituals.standups.membership.sync_all()
        except Exception:  # a platform outage must not stop the schedule
            log.exception("roster sync failed")
        async with self.rituals.rt.db.session() as session:
            rows = await session.execute(
                select(Ritual.id, Ritual.version).where(Ritual.kind == KIND)
            )
            versions = dict(rows.tuples().all())
            zones = await session.execute(
                select(Participant.ritual_id, Member.tz)
                .join(Member, Member.id == Participant.member_id)
                .distinct()
            )
            tzs: dict[int, set[str]] = {}
            for ritual_id, tz in zones.tuples():
                tzs.setdefault(ritual_id, set()).add(tz)
        current = {rid: (v, tuple(sorted(tzs.get(rid, ())))) for rid, v in versions.items()}
        for ritual_id in set(self._seen) - set(current):
            self._remove(ritual_id)
            del self._seen[ritual_id]
        for ritual_id, signature in current.items():
            if self._seen.get(ritual_id) != signature:
                await self.sync(ritual_id, roster=False)

    async def sync(self, ritual_id: int, *, roster: bool = True) -> None:
        """Rebuild one ritual's jobs; its channel roster first unless just refreshed."""
        if roster:
            try:
                await self.rituals.standups.membership.sync(ritual_id)
            except Exception:  # a platform outage must not stop the schedule
                log.exception("roster sync failed", ritual_id=ritual_id)
        async with self._lock:
            async with self.rituals.rt.db.session() as session:
                ritual = await session.get(Ritual, ritual_id)
            self._remove(ritual_id)
            if ritual is None:
                self._seen.pop(ritual_id, None)
                return
            zones = await self.rituals.standups.timezones(ritual_id)
            self._seen[ritual_id] = (ritual.version, tuple(zones))
            if ritual.paused:
                return
            for tz in zones:
                self.aps.add_job(
                    self._tracked(self.rituals.standups.prompt_due),
                    RitualTrigger(cfg.schedule_of(ritual, tz), self.grace),
                    args=(ritual_id, tz),
                    id=f"{job_prefix(ritual_id)}{tz}",
                    replace_existing=True,
                )

    def _remove(self, ritual_id: int) -> None:
        for job in self.aps.get_jobs():
            if job.id.startswith(job_prefix(ritual_id)):
                job.remove()

    def _missed(self, event: JobExecutionEvent) -> None:
        log.warning(
            "scheduled run missed: past the grace period",
            job=event.job_id,
            scheduled=event.scheduled_run_time.isoformat(),
            grace_s=int(self.grace.total_seconds()),
        )

    def jobs(self) -> dict[str, datetime | None]:
        return {job.id: job.next_run_time for job in self.aps.get_jobs()}
