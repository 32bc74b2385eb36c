"""Commands that only read, answered inside Slack's acknowledgement a batch at a time.

Reads that arrive while a batch is being answered wait for the next one; on PostgreSQL, once
a quarter of a batch waits, another batch starts beside it, up to the journal's `parallel`
at once, each on a connection of its own (a few reads answered in a batch each would cost
a commit and three more statements each). Each batch is one unit of work (one commit, and
on SQLite one turn at the writer), as the journal's worker handles what is stored, and no
answer leaves before its batch has committed the delivery ids that keep a replay from being
answered twice (recorded together, in one statement). If any read of a batch fails, the
batch rolls back whole and each of its reads is stored instead, to be answered like the
rest.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from handlers.journal import Journal
from storage import deliveries

log = structlog.get_logger(__name__)

Dispatch = Callable[[AsyncBoltRequest], Awaitable[BoltResponse]]


@dataclass
class _Asked:
    lane: str
    request: AsyncBoltRequest
    delivery: str | None
    answer: asyncio.Future[BoltResponse | None]


class AtOnce:
    """The reads one Slack edge answers at once, and the task that answers them in batches."""

    def __init__(
        self, dispatch: Dispatch, journal: Journal, platform: str, *, together: int = 32
    ) -> None:
        self._dispatch = dispatch
        self._journal = journal
        self._platform = platform
        self._together = together
        self._queue: list[_Asked] = []
        self._runners: set[asyncio.Task[None]] = set()
        self.waiting = 0

    async def answer(
        self, lane: str, request: AsyncBoltRequest, delivery: str | None
    ) -> BoltResponse | None:
        """Bolt's answer to ``request``, whose handling records ``delivery``; None when it
        must be stored instead: an earlier request of its lane still waits in the journal,
        or its batch failed."""
        asked = _Asked(lane, request, delivery, asyncio.get_running_loop().create_future())
        self._queue.append(asked)
        if not self._runners or (
            len(self._runners) < self._journal.parallel and len(self._queue) >= self._together // 4
        ):
            # Its own context: the batches outlive the request that happened to start them.
            self._runners.add(asyncio.create_task(self._run(), context=contextvars.Context()))
        self.waiting += 1
        try:
            return await asyncio.shield(asked.answer)
        finally:
            self.waiting -= 1
            asked.answer.cancel()  # gone before its batch came: the batch skips it

    async def _run(self) -> None:
        try:
            await self._answer_queued()
        finally:
            # In the same step that found the queue empty: a read queued after it starts a
            # runner of its own.
            self._runners.discard(asyncio.current_task())

    async def _answer_queued(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self._together], self._queue[self._together :]
            answers: dict[int, BoltResponse] = {}
            await self._journal.look_ahead(self._platform, [asked.lane for asked in batch])
            try:
                db = self._journal.db
                async with db.batch():
                    held = await self._journal.held({asked.lane for asked in batch})
                    due = {
                        n: asked
                        for n, asked in enumerate(batch)
                        if not asked.answer.done() and asked.lane not in held
                    }
                    async with db.session() as session:
                        await deliveries.record_ahead(
                            session,
                            [(self._platform, a.delivery) for a in due.values() if a.delivery],
                            self._journal.clock.now(),
                        )
                    for n, asked in due.items():
                        if not asked.answer.done():  # its requester may have given up
                            answers[n] = await self._dispatch(asked.request)
            except Exception as exc:  # rolled back: every read of the batch is stored
                log.warning("reads answered at once failed; stored instead", error=str(exc)[:300])
                answers = {}
            for n, asked in enumerate(batch):
                if not asked.answer.done():
                    asked.answer.set_result(answers.get(n))
