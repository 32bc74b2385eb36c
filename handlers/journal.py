"""Acknowledge first, handle after: the door every edge's HTTP requests pass through.

A platform waits only for the request to be committed to the journal; concurrent requests
share one INSERT and one commit (group commit). A worker then hands each stored request back
to its edge, one person's requests in order, while the door keeps priority: handling yields
whenever requests are waiting for their acknowledgement.

Requests of different lanes are handled in batches that share one unit of work: what they
change, their replies and their removal from the journal commit together, once. A batch that
fails is rolled back whole and its requests handled again one by one, each in its own unit of
work, so a request that cannot be handled holds up nobody else's. On PostgreSQL several
batches of different lanes are handled at once, as several workers would: each waits on the
database's replies while the others run. Two that lock the same rows in opposite orders
deadlock; the one the database rolls back is tried again at once. SQLite takes one writer at
a time, so one batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import TypeVar

import structlog
from sqlalchemy.exc import DataError

from rituals import leases
from rituals.clock import Clock
from rituals.telemetry import JOURNAL_HANDLED, JOURNAL_LAG
from storage import deliveries, journal
from storage.db import Database
from storage.journal import Arrival
from storage.models import JournalEntry

log = structlog.get_logger(__name__)
T = TypeVar("T")


# PostgreSQL's deadlock and serialization failures: two units of work crossed, and the one
# rolled back goes through on a second try.
CROSSED = frozenset({"40P01", "40001"})


def crossed(exc: BaseException | None) -> bool:
    """Whether the failure, or one it came from, is two units of work crossing: batches
    handled side by side on PostgreSQL that locked the same rows in opposite orders."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        for error in (exc, getattr(exc, "orig", None)):
            if getattr(error, "sqlstate", None) in CROSSED:
                return True
        exc = exc.__cause__ or exc.__context__
    return False


async def _once_more_if_crossed(work: Callable[[], Awaitable[T]], crossing: str) -> T:
    """``work`` done, and done again at once, not after a back-off, when it only crossed
    another unit of work (which has committed by then)."""
    try:
        return await work()
    except Exception as exc:
        if not crossed(exc):
            raise
        log.info(crossing, error=f"{type(exc).__name__}: {exc}"[:300])
        return await work()


def permanent(exc: Exception) -> bool:
    """A failure that will recur on every try: the request itself is at fault (a value the
    database refuses, a payload of the wrong shape), not the network or a busy database."""
    if isinstance(exc, OSError | TimeoutError):
        return False
    return isinstance(exc, DataError | ValueError | TypeError | LookupError | AttributeError)


Handler = Callable[[JournalEntry], Awaitable[None]]
# What a batch's requests will need from the platform, asked before the batch holds the
# database; given the requests' lanes.
Ahead = Callable[[list[str]], Awaitable[None]]
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(minutes=5)
# Under a steady stream of requests the worker still handles one entry this often.
YIELD_AT_MOST = 0.25
# A batch holding the database commits early after this long when requests wait at the door.
BATCH_HOLD_AT_MOST = 0.05
# Batches handled at once by one process on a database that takes concurrent writers.
PARALLEL = 4


class Journal:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        batch: int = 50,
        lease: timedelta = leases.LEASE,
        poll: float = 5.0,
        handle_timeout: float = 60.0,
        together: int = 32,
        workers: int = 1,
        parallel: int | None = None,
    ) -> None:
        """``handle_timeout`` abandons (and retries) a request whose handling hangs; the
        ``lease`` is renewed meanwhile, so no other worker takes the request, while a process
        that dies gives its claims up within one lease. ``workers`` is how many processes
        share the journal: each claims only its share of the lanes waiting. ``parallel`` is
        how many batches this process handles at once (by default one on SQLite, else
        `PARALLEL`)."""
        self.db, self.clock = db, clock
        self._handlers: dict[str, Handler] = {}
        self._ahead: dict[str, Ahead] = {}
        self._batch, self._lease, self._poll = batch, lease, poll
        self._handle_timeout = handle_timeout
        self._together = together
        self._workers = workers
        self.parallel = parallel or (1 if db.dialect == "sqlite" else PARALLEL)
        self._worker = leases.worker_id(self)
        self._waiting: list[tuple[Arrival, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._writing: list[tuple[Arrival, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._at_door = 0
        self._door_idle = asyncio.Event()
        self._door_idle.set()

    def handles(self, platform: str, handler: Handler, *, ahead: Ahead | None = None) -> None:
        """Who handles a platform's stored requests: its edge, as if they had just arrived;
        ``ahead`` fetches what a batch of them will need from the platform first."""
        self._handlers[platform] = handler
        if ahead is not None:
            self._ahead[platform] = ahead

    async def look_ahead(self, platform: str, lanes: list[str]) -> None:
        """Let the platform's edge fetch what requests of ``lanes`` will need, outside any
        unit of work; a failure only means each request fetches its own."""
        ahead = self._ahead.get(platform)
        if ahead is None or not lanes:
            return
        try:
            await ahead(lanes)
        except Exception as exc:
            log.warning("looking ahead for a batch failed", platform=platform, error=str(exc))

    @contextlib.contextmanager
    def door(self) -> Iterator[None]:
        """Mark a request as waiting for its acknowledgement, so handling makes way for it."""
        self._at_door += 1
        self._door_idle.clear()
        try:
            yield
        finally:
            self._at_door -= 1
            if self._at_door == 0:
                self._door_idle.set()

    async def append(self, arrival: Arrival) -> None:
        """Store one request; returns once it is committed (raises if it could not be)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((arrival, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        await future

    async def held(self, lanes: set[str]) -> set[str]:
        """Which of ``lanes`` have a request stored or being stored and not yet handled: a
        person's next request must then wait its turn behind it. One look at the database
        answers for them all."""
        stored = {arrival.lane for arrival, _ in [*self._waiting, *self._writing]}
        found = lanes & stored
        async with self.db.session() as session:
            return found | await journal.held(session, lanes - found)

    async def _write(self) -> None:
        """Commit whatever arrived since the last commit, until nothing waits."""
        while self._waiting:
            batch, self._waiting = self._waiting, []
            self._writing = batch
            try:
                async with self.db.single() as session:
                    await journal.append(session, [a for a, _ in batch], self.clock.now())
            except Exception as exc:
                log.error("journal write failed", error=str(exc), requests=len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)
                self._wake.set()
            finally:
                self._writing = []

    async def run(self, stop: asyncio.Event) -> None:
        """Handle stored requests until ``stop``; wakes on arrivals, polls for other
        processes' leftovers and retries. First takes back what a stopped process on this
        host had claimed (a restart), so those requests do not wait out its leases."""
        try:
            await leases.take_back(self.db, JournalEntry, self.clock.now())
        except Exception:
            log.exception("taking back stale claims failed")
        while not stop.is_set():
            self._wake.clear()
            try:
                handled = await self.handle_some()
            except Exception:
                log.exception("journal worker failed; retrying")
                handled = 0
            if handled:
                continue
            waits = [asyncio.ensure_future(e.wait()) for e in (self._wake, stop)]
            _, pending = await asyncio.wait(
                waits, timeout=self._poll, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()

    async def drain(self) -> None:
        """Handle everything that is due now (tests and shutdown)."""
        while self._writer is not None and not self._writer.done():
            await self._writer
        while await self.handle_some():
            pass

    async def handle_some(self) -> int:
        """Claim one batch and hand each entry to its edge; returns how many were claimed."""
        if not self._handlers:
            return 0
        now = self.clock.now()
        async with self.db.claims() as session:
            entries = await journal.claim(
                session,
                self._worker,
                now,
                platforms=sorted(self._handlers),
                limit=self._batch,
                lease=self._lease,
                workers=self._workers,
            )
        finished: list[int] = []
        settled: set[int] = set()
        try:
            async with leases.renewed(
                self.db, JournalEntry, self._worker, self.clock.now, self._lease
            ):
                if self.parallel == 1:
                    await self._work_through(entries, finished, settled)
                else:
                    # Claimed entries are lane heads, one per person: shares of them never
                    # take one person's requests out of order. A share that fails stops the
                    # others before any claim is released.
                    async with asyncio.TaskGroup() as shares:
                        for n in range(min(self.parallel, len(entries))):
                            share = entries[n :: self.parallel]
                            shares.create_task(self._work_through(share, finished, settled))
        finally:
            unsettled = [e.id for e in entries if e.id not in settled]
            async with self.db.session() as session:
                await journal.done(session, finished)
                await journal.release(session, unsettled, worker=self._worker)
        return len(entries)

    async def _work_through(
        self, entries: list[JournalEntry], finished: list[int], settled: set[int]
    ) -> None:
        """Handle ``entries`` in batches, noting which are ``settled`` (and which of those
        are ``finished`` one by one, still to be removed from the journal)."""
        remaining = list(entries)
        while remaining:
            await self._make_way()
            together = await self._together_in_one(remaining[: self._together])
            if together:
                settled.update(together)
                remaining = [e for e in remaining if e.id not in settled]
                continue
            for entry in remaining[: self._together]:
                await self._make_way()
                if await self._handle(entry):
                    finished.append(entry.id)
                settled.add(entry.id)
            remaining = remaining[self._together :]

    async def _together_in_one(self, entries: list[JournalEntry]) -> list[int]:
        """Handle a prefix of ``entries`` in one unit of work that also removes them from the
        journal; the ids handled, or none when the batch failed and was rolled back. A batch
        that crossed another (a deadlock) is tried once more whole: the other has committed
        by then."""
        if len(entries) < 2:
            return []
        for platform in {e.platform for e in entries}:
            await self.look_ahead(platform, [e.lane for e in entries if e.platform == platform])
        try:
            handled = await _once_more_if_crossed(
                lambda: self._in_one_unit(entries), "a batch crossed another; trying it again whole"
            )
        except Exception as exc:
            log.info(
                "a batch of stored requests failed; handling them one by one",
                requests=len(entries),
                error=f"{type(exc).__name__}: {exc}"[:300],
            )
            return []
        now = self.clock.now()
        for entry in handled:
            JOURNAL_HANDLED.labels(entry.platform, "ok").inc()
            JOURNAL_LAG.labels(entry.platform).observe(
                max(0.0, (now - entry.received_at).total_seconds())
            )
        return [e.id for e in handled]

    async def _handle_in_time(self, entry: JournalEntry) -> None:
        async with asyncio.timeout(self._handle_timeout):
            await self._handlers[entry.platform](entry)

    async def _in_one_unit(self, entries: list[JournalEntry]) -> list[JournalEntry]:
        handled: list[JournalEntry] = []
        started = time.monotonic()
        async with self.db.batch():
            async with self.db.session() as session:
                await deliveries.record_ahead(
                    session, [(e.platform, e.delivery_id) for e in entries], self.clock.now()
                )
            for entry in entries:
                if self._at_door and time.monotonic() - started > BATCH_HOLD_AT_MOST:
                    break
                await self._handle_in_time(entry)
                handled.append(entry)
            async with self.db.session() as session:
                await journal.done(session, [e.id for e in handled])
        return handled

    async def _set_aside(self, entry: JournalEntry, exc: Exception) -> None:
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        async with self.db.session() as session:
            moved = await journal.set_aside(
                session, entry, worker=self._worker, reason=reason, now=self.clock.now()
            )
        if moved:
            JOURNAL_HANDLED.labels(entry.platform, "set_aside").inc()
            log.error(
                "stored request set aside: it cannot be handled (see `ritualbot journal list`)",
                platform=entry.platform,
                delivery_id=entry.delivery_id,
                attempts=entry.attempts + 1,
                reason=reason[:300],
            )

    async def _make_way(self) -> None:
        if self._at_door:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._door_idle.wait(), YIELD_AT_MOST)

    async def _handle(self, entry: JournalEntry) -> bool:
        """True when the entry is finished with: handled, or set aside as one that cannot be
        (at once when the failure says so, else after repeated tries): its lane moves on."""
        try:
            await _once_more_if_crossed(
                lambda: self._handle_in_time(entry),
                "a stored request crossed another; trying it again",
            )
        except Exception as exc:
            attempts = entry.attempts + 1
            if permanent(exc) or attempts >= MAX_ATTEMPTS:
                await self._set_aside(entry, exc)
                return False
            log.warning(
                "stored request failed; retrying",
                platform=entry.platform,
                delivery_id=entry.delivery_id,
                error=str(exc),
            )
            async with self.db.session() as session:
                await journal.retry_later(
                    session,
                    entry.id,
                    worker=self._worker,
                    attempts=attempts,
                    at=self.clock.now() + min(timedelta(seconds=5 * 2**attempts), MAX_BACKOFF),
                )
            JOURNAL_HANDLED.labels(entry.platform, "retry").inc()
            return False
        JOURNAL_HANDLED.labels(entry.platform, "ok").inc()
        JOURNAL_LAG.labels(entry.platform).observe(
            max(0.0, (self.clock.now() - entry.received_at).total_seconds())
        )
        return True
