"""Delivery: drains the outbox through the chat ports, retrying until each message lands."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import leases
from rituals.clock import Clock
from rituals.messages import Message
from rituals.port import ChatPort, SendError, Sent
from rituals.telemetry import MESSAGES_FAILED, MESSAGES_SENT
from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage

log = structlog.get_logger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
PARENT_WAIT = timedelta(seconds=2)
PROBE_WAIT = timedelta(seconds=1)
PACED = "keeping the platform's pace of about one message a second per conversation"


def backoff(attempts: int, retry_after: float | None, jitter: float = 1.0) -> timedelta:
    """Wait what the platform asked for, else 1 s doubling per attempt up to 5 minutes,
    times ``jitter`` (drawn from 0.5 to 1), so messages that failed together do not all
    come back together."""
    if retry_after is not None:
        return timedelta(seconds=max(0.0, retry_after))
    return min(timedelta(seconds=2 ** max(0, attempts - 1)), MAX_BACKOFF) * jitter


def half_to_whole() -> float:
    return random.uniform(0.5, 1.0)


@dataclass
class _Outage:
    """Failed sends to one workspace since its last success: logged once when it starts,
    once when it ends, instead of a line per message."""

    since: datetime
    failures: int
    error: str


@dataclass
class _Outcome:
    row: OutboxMessage
    sent: Sent | None = None
    waiting: bool = False
    wait_until: datetime | None = None
    error: str = ""
    permanent: bool = False
    retry_after: float | None = None


class _Recorder:
    """Writes send results as they come in, a batch per transaction.

    Results are recorded while later sends are still in flight, so a crash repeats at most
    the few sends since the last write, and 2,000 sends cost a handful of transactions.
    """

    def __init__(self, write: Callable[[list[_Outcome]], Awaitable[None]]) -> None:
        self._write = write
        self._pending: list[_Outcome] = []
        self._ready = asyncio.Event()
        self._closing = False
        self._task = asyncio.create_task(self._run())

    def add(self, outcome: _Outcome) -> None:
        self._pending.append(outcome)
        self._ready.set()

    async def close(self) -> None:
        self._closing = True
        self._ready.set()
        await self._task

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            batch, self._pending = self._pending, []
            if batch:
                await self._write(batch)
            if self._closing and not self._pending:
                return


class _NotReady(Exception):
    """The message threads under or updates one that has not been delivered yet."""


class Delivery:
    """One outbox drainer; several (in one or many processes) may share a database."""

    def __init__(
        self,
        db: Database,
        ports: Mapping[str, ChatPort],
        clock: Clock,
        *,
        batch: int = 200,
        concurrency: int = 32,
        send_timeout: timedelta = timedelta(seconds=20),
        poll_interval: float = 1.0,
        worker_id: str | None = None,
        lane_interval: Mapping[str, timedelta] | None = None,
        jitter: Callable[[], float] = half_to_whole,
        drainers: int = 2,
    ) -> None:
        """``lane_interval`` paces each platform's channels (Slack: about one a second);
        ``drainers`` is how many batches `run` has out at once."""
        self.db = db
        self.ports = dict(ports)
        self.clock = clock
        self.batch = batch
        self.send_timeout = send_timeout
        self.lease = leases.LEASE
        self.poll_interval = poll_interval
        self.drainers = drainers
        self.worker_id = worker_id or leases.worker_id(self)
        self._limit = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self.lane_interval = dict(lane_interval or {})
        # Platforms whose private replies go to the person's own chat (Teams has no message
        # only one person sees in a channel): those keep that conversation's pace.
        self._private_in_person = frozenset(
            name for name, port in self.ports.items() if getattr(port, "private_in_person", False)
        )
        self._last_sent: dict[str, datetime] = {}
        self._paused: dict[tuple[str, str], datetime] = {}
        # A workspace whose Retry-After ran out gets one probe before the rest follow.
        self._probing: dict[tuple[str, str], int | None] = {}
        self._outages: dict[tuple[str, str], _Outage] = {}
        self._jitter = jitter

    def wake(self) -> None:
        """Ask the running loop to drain now instead of at its next poll."""
        self._wake.set()

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Send until nothing is ready (or ``stop`` is set); returns how many were delivered."""
        total = 0
        while stop is None or not stop.is_set():
            sent, claimed = await self.drain_once()
            total += sent
            if claimed == 0:
                break
        return total

    async def drain_once(self) -> tuple[int, int]:
        """Claim one batch of lane heads and send it; returns (delivered, claimed)."""
        now = self.clock.now()
        async with self.db.claims() as session:
            rows = await outbox.claim(
                session,
                self.worker_id,
                now,
                platforms=list(self.ports),
                limit=self.batch,
                lease=self.lease,
            )
        if not rows:
            return 0, 0
        referred = {i for r in rows if (i := r.thread_of or r.update_of) is not None}
        parents: dict[int, OutboxMessage] = {}
        if referred:
            async with self.db.session() as session:
                parents = await outbox.refs(session, referred)
        recorder = _Recorder(self._record)
        async with leases.renewed(
            self.db, OutboxMessage, self.worker_id, self.clock.now, self.lease
        ):
            sends = (self._deliver(row, parents, recorder) for row in rows)
            outcomes = await asyncio.gather(*sends)
            await recorder.close()
        return sum(1 for o in outcomes if o.sent), len(rows)

    async def _deliver(
        self, row: OutboxMessage, parents: dict[int, OutboxMessage], recorder: _Recorder
    ) -> _Outcome:
        outcome = await self._send(row, parents)
        recorder.add(outcome)
        return outcome

    async def _record(self, outcomes: list[_Outcome]) -> None:
        now = self.clock.now()
        delivered = [(o.row.id, o.sent.channel, o.sent.ref) for o in outcomes if o.sent]
        forgotten = [o.row.id for o in outcomes if not o.row.keep and (o.sent or o.permanent)]
        # The usual outcome, every message sent and kept, is one statement.
        only_sent = not forgotten and len(delivered) == len(outcomes)
        async with self.db.single() if only_sent else self.db.session() as session:
            await outbox.mark_sent(session, delivered, now)
            await outbox.forget(session, forgotten)
            for outcome in outcomes:
                if outcome.sent is None:
                    await self._record_failure(session, outcome, now)

    async def _send(self, row: OutboxMessage, parents: dict[int, OutboxMessage]) -> _Outcome:
        port = self.ports[row.platform]
        message = Message.model_validate(row.payload)
        workspace = (row.platform, row.workspace)
        paced_in = self._paced_in(row)
        paced = self._paced_until(paced_in, row.platform)
        if paced is not None:
            return _Outcome(row, waiting=True, wait_until=paced, error=PACED)
        try:
            async with self._limit:
                held = self._held(workspace, row)
                if held is not None:
                    return held
                sent = await asyncio.wait_for(
                    self._dispatch(port, row, message, parents),
                    self.send_timeout.total_seconds(),
                )
        except _NotReady:
            if self._probing.get(workspace) == row.id:
                self._probing[workspace] = None
            return _Outcome(row, waiting=True)
        except SendError as exc:
            if exc.retry_after is not None:
                until = self.clock.now() + timedelta(seconds=exc.retry_after)
                self._paused[workspace] = max(until, self._paused.get(workspace, until))
                self._probing[workspace] = None
            outcome = _Outcome(
                row, error=exc.reason, permanent=exc.permanent, retry_after=exc.retry_after
            )
            return self._failed(workspace, outcome)
        except TimeoutError:
            error = f"no answer within {self.send_timeout.total_seconds():g}s"
            return self._failed(workspace, _Outcome(row, error=error))
        except Exception as exc:  # any port failure becomes a retry
            return self._failed(workspace, _Outcome(row, error=f"{type(exc).__name__}: {exc}"))
        MESSAGES_SENT.labels(row.platform).inc()
        if paced_in is not None:
            self._last_sent[paced_in] = self.clock.now()
        self._recovered(workspace)
        return _Outcome(row, sent=sent)

    def _held(self, workspace: tuple[str, str], row: OutboxMessage) -> _Outcome | None:
        """Why a send to this workspace must wait now, if it must: a Retry-After still
        running, or, once it has run out, the one probe that goes before everything else."""
        now = self.clock.now()
        paused_until = self._paused.get(workspace)
        if paused_until is not None and paused_until > now:
            return _Outcome(row, waiting=True, wait_until=paused_until)
        if workspace in self._probing:
            probe = self._probing[workspace]
            if probe is not None and probe != row.id:
                return _Outcome(row, waiting=True, wait_until=now + PROBE_WAIT)
            self._probing[workspace] = row.id
        return None

    def _failed(self, workspace: tuple[str, str], outcome: _Outcome) -> _Outcome:
        if self._probing.get(workspace) == outcome.row.id:
            self._probing[workspace] = None
        if outcome.permanent:
            return outcome
        outage = self._outages.get(workspace)
        if outage is None:
            self._outages[workspace] = _Outage(self.clock.now(), 1, outcome.error)
            log.warning(
                "sends failing; retrying with backoff until they go through",
                platform=workspace[0],
                workspace=workspace[1],
                error=outcome.error,
            )
        else:
            outage.failures += 1
            outage.error = outcome.error
        return outcome

    def _recovered(self, workspace: tuple[str, str]) -> None:
        self._probing.pop(workspace, None)
        self._paused.pop(workspace, None)
        outage = self._outages.pop(workspace, None)
        if outage is not None:
            log.info(
                "sends going through again",
                platform=workspace[0],
                workspace=workspace[1],
                failed_tries=outage.failures,
                outage_s=round((self.clock.now() - outage.since).total_seconds(), 1),
                last_error=outage.error,
            )

    def _paced_in(self, row: OutboxMessage) -> str | None:
        """The conversation whose pace a message keeps, on a platform that is paced; None
        when it keeps none.

        A channel's posts and updates keep the channel's; a direct message keeps the
        person's chat's, and so do private replies where the platform delivers them there
        (Teams: whichever channel they answer, they all land in that one chat, which the
        platform limits like any other conversation). Elsewhere a private reply (Slack's
        ephemeral message, a slash command's answer) is no post to a conversation and keeps
        no pace.
        """
        if row.platform not in self.lane_interval:
            return None
        if row.op in ("direct", "ephemeral"):
            if row.op == "ephemeral" and row.platform not in self._private_in_person:
                return None
            return f"{row.platform}:{row.workspace}:person:{row.user}"
        return row.lane

    def _paced_until(self, conversation: str | None, platform: str) -> datetime | None:
        """When ``conversation`` may have a message again at the platform's pace, if not now;
        when it may, the turn is taken at once, so a message of another lane to the same
        conversation in this batch waits for the next one.

        A message that must wait is put back until then instead of waited for, so one busy
        conversation never holds the others back. A rate limit (429) pauses the whole
        workspace instead, so the rest of a fan-out does not run into the same limit
        message after message.
        """
        if conversation is None:
            return None
        interval = self.lane_interval[platform]
        now = self.clock.now()
        if len(self._last_sent) > 50_000:
            horizon = now - interval
            self._last_sent = {k: v for k, v in self._last_sent.items() if v > horizon}
        last = self._last_sent.get(conversation)
        if last is not None and last + interval > now:
            return last + interval
        self._last_sent[conversation] = now
        return None

    async def _dispatch(
        self,
        port: ChatPort,
        row: OutboxMessage,
        message: Message,
        parents: dict[int, OutboxMessage],
    ) -> Sent:
        if row.op == "direct":
            return await port.direct(row.workspace, row.user or "", message)
        if row.op == "ephemeral":
            return await port.ephemeral(
                row.workspace, row.channel or "", row.user or "", message, via=row.via
            )
        if row.op == "update":
            parent = parents.get(row.update_of or 0)
            if parent is None or parent.status == "dead":
                raise SendError("the message to update was never delivered", permanent=True)
            if parent.sent_ref is None:
                raise _NotReady
            return await port.update(
                row.workspace, Sent(parent.sent_channel or "", parent.sent_ref), message
            )
        thread = None
        if row.thread_of is not None:
            parent = parents.get(row.thread_of)
            if parent is not None and parent.status != "dead":
                if parent.sent_ref is None:
                    raise _NotReady
                thread = parent.sent_ref
        return await port.post(row.workspace, row.channel or "", message, thread=thread)

    async def _record_failure(
        self, session: AsyncSession, outcome: _Outcome, now: datetime
    ) -> None:
        row = outcome.row
        if outcome.waiting:
            await outbox.mark_failed(
                session,
                row.id,
                worker=self.worker_id,
                error=outcome.error
                or (
                    "rate limited: the workspace is paused"
                    if outcome.wait_until
                    else "waiting for the message it refers to"
                ),
                retry_at=outcome.wait_until or now + PARENT_WAIT,
                attempts=row.attempts,
            )
            return
        attempts = row.attempts + 1
        retry_at = (
            None
            if outcome.permanent
            else now + backoff(attempts, outcome.retry_after, self._jitter())
        )
        MESSAGES_FAILED.labels(row.platform, "yes" if outcome.permanent else "no").inc()
        if outcome.permanent:
            log.warning(
                "send given up", outbox_id=row.id, platform=row.platform, error=outcome.error
            )
        await outbox.mark_failed(
            session,
            row.id,
            worker=self.worker_id,
            error=outcome.error,
            retry_at=retry_at,
            attempts=attempts,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Drain until ``stop`` is set, waking on :meth:`wake` or every poll interval; first
        takes back what a stopped process on this host had claimed (a restart).

        Up to ``drainers`` batches are out at once: a wake while one batch is still being
        sent claims what was queued since (other lanes' heads only, as a lane's head in
        flight stays claimed), so a reply made now never waits for a slow batch to finish.
        """
        try:
            await leases.take_back(self.db, OutboxMessage, self.clock.now())
        except Exception:
            log.exception("taking back stale claims failed")
        self._wake.set()
        listening = asyncio.Lock()
        async with asyncio.TaskGroup() as drainers:
            for _ in range(self.drainers):
                drainers.create_task(self._drain_when_woken(stop, listening))

    async def _drain_when_woken(self, stop: asyncio.Event, listening: asyncio.Lock) -> None:
        """One drainer: it waits its turn to listen for a wake, and drains when woken."""
        while not stop.is_set():
            async with listening:
                await self._woken(stop)
                self._wake.clear()
            if stop.is_set():
                return
            try:
                await self.drain(stop)
            except Exception:  # a database hiccup must not end delivery
                log.exception("outbox drain failed")

    async def _woken(self, stop: asyncio.Event) -> None:
        waiter = asyncio.ensure_future(self._wake.wait())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait(
            {waiter, stopper}, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED
        )
        waiter.cancel()
        stopper.cancel()
