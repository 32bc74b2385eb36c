"""APScheduler, driven from the database: jobs are derived from rituals, never stored.

APScheduler 3 must not share a job store between processes, so each process builds its own
jobs from the ritual rows and the database claim decides which process does the work. What
jobs a ritual has is its kind's business (`Kind.versions`, `Kind.slots`, `Kind.sweeps`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import select

from rituals.housekeeping import prune_deliveries
from rituals.kinds import Kind
from rituals.router import Rituals
from rituals.schedule import Schedule, next_run
from storage.models import Ritual

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
    """Every kind's jobs of one ritual share it; ritual ids are unique across kinds."""
    return f":{ritual_id}:"


SHUTDOWN_WAIT_SECONDS = 5.0
PRUNE_EVERY = timedelta(hours=1)


class RitualScheduler:
    """One per process: each ritual's jobs, each kind's sweeps, and a resync."""

    def __init__(
        self,
        rituals: Rituals,
        *,
        grace: timedelta = timedelta(hours=1),
        resync_every: timedelta = timedelta(seconds=60),
    ) -> None:
        self.rituals = rituals
        self.kinds = rituals.kinds
        self.grace = grace
        self.resync_every = resync_every
        self.aps = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                "misfire_grace_time": int(grace.total_seconds()),
                "coalesce": True,
                "max_instances": 1,
            },
        )
        self._seen: dict[int, Hashable] = {}
        self._job_ids: dict[int, set[str]] = {}
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._dirty: set[int] = set()
        self._running: set[int] = set()
        self._busy: set[asyncio.Task[Any]] = set()
        self._cut_off: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        self.aps.add_listener(self._missed, EVENT_JOB_MISSED)
        self.aps.start()
        await self.resync()
        for kind in self.kinds.values():
            started = await kind.catch_up()
            if started:
                log.info("caught up on what came due while down", kind=kind.word, runs=started)
            for sweep in kind.sweeps():
                self.aps.add_job(
                    self._tracked(sweep.run),
                    "interval",
                    id=sweep.name,
                    seconds=sweep.every.total_seconds(),
                )
        self.aps.add_job(
            self._tracked(self.resync),
            "interval",
            id="resync",
            seconds=self.resync_every.total_seconds(),
        )
        rt = self.rituals.rt
        self.aps.add_job(
            self._tracked(lambda: prune_deliveries(rt.db, rt.clock)),
            "interval",
            id="prune",
            seconds=PRUNE_EVERY.total_seconds(),
        )

    def _tracked(self, job: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """A job whose runs :meth:`shutdown` waits for, so none is cut off mid-transaction."""

        async def run(*args: Any) -> Any:
            task = asyncio.current_task()
            assert task is not None
            self._busy.add(task)
            try:
                return await job(*args)
            except asyncio.CancelledError:
                if task not in self._cut_off:
                    raise
                return None  # stopped by `shutdown`, which says so once for all of them
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
            _, late = await asyncio.wait(under_way, timeout=SHUTDOWN_WAIT_SECONDS)
            if late:
                # Stopped here rather than cut off as the process ends, where each would be
                # logged as a failed job with its traceback; their work rolls back and is
                # done again by the next process's runs.
                self._cut_off.update(late)
                for task in late:
                    task.cancel()
                await asyncio.wait(late)
                log.warning("scheduled work still running at shutdown was stopped", runs=len(late))
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

        Each kind first brings its rituals in step with the platforms (channel rosters
        change who takes part), then says what each ritual's jobs depend on.
        """
        current: dict[int, Hashable] = {}
        for kind in self.kinds.values():
            try:
                await kind.refresh()
            except Exception:  # a platform outage must not stop the schedule
                log.exception("refresh before resync failed", kind=kind.word)
            async with self.rituals.rt.db.session() as session:
                current.update(await kind.versions(session))
        for ritual_id in set(self._seen) - set(current):
            self._remove(ritual_id)
            del self._seen[ritual_id]
        for ritual_id, signature in current.items():
            if self._seen.get(ritual_id) != signature:
                await self.sync(ritual_id, refresh=False, signature=signature)

    async def sync(
        self, ritual_id: int, *, refresh: bool = True, signature: Hashable | None = None
    ) -> None:
        """Rebuild one ritual's jobs; refreshed from its platform first unless just done,
        and its signature read unless the caller just read it."""
        kind = await self._kind(ritual_id)
        if kind is not None and refresh:
            try:
                await kind.refresh(ritual_id)
            except Exception:  # a platform outage must not stop the schedule
                log.exception("refresh before rebuild failed", ritual_id=ritual_id)
        async with self._lock:
            self._remove(ritual_id)
            if kind is None:
                self._seen.pop(ritual_id, None)
                return
            if signature is None:
                async with self.rituals.rt.db.session() as session:
                    signature = (await kind.versions(session, [ritual_id])).get(ritual_id)
            self._seen[ritual_id] = signature
            for slot in await kind.slots(ritual_id):
                job_id = f"{kind.word}{job_prefix(ritual_id)}{slot.key}"
                self.aps.add_job(
                    self._tracked(slot.run),
                    RitualTrigger(slot.schedule, self.grace),
                    args=slot.args,
                    id=job_id,
                    name=f"{kind.title} {ritual_id} ({slot.key})",
                    replace_existing=True,
                )
                self._job_ids.setdefault(ritual_id, set()).add(job_id)

    async def _kind(self, ritual_id: int) -> Kind | None:
        async with self.rituals.rt.db.session() as session:
            word = await session.scalar(select(Ritual.kind).where(Ritual.id == ritual_id))
        return self.kinds.get(word) if word is not None else None

    def _remove(self, ritual_id: int) -> None:
        for job_id in self._job_ids.pop(ritual_id, set()):
            with contextlib.suppress(JobLookupError):
                self.aps.remove_job(job_id)

    def _missed(self, event: JobExecutionEvent) -> None:
        log.warning(
            "scheduled run missed: past the grace period",
            job=event.job_id,
            scheduled=event.scheduled_run_time.isoformat(),
            grace_s=int(self.grace.total_seconds()),
        )

    def jobs(self) -> dict[str, datetime | None]:
        return {job.id: job.next_run_time for job in self.aps.get_jobs()}
