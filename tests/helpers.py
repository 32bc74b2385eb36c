"""Small builders for engine tests: a team on a fake platform, a clock, and a chat log."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, select, text

from bot.kinds import registry
from rituals.clock import FakeClock
from rituals.delivery import Delivery
from rituals.identity import Actor, Place
from rituals.kinds import Registry
from rituals.messages import Message
from rituals.port import SendError, Sent
from rituals.router import Rituals
from rituals.runtime import Runtime
from rituals.standup.kind import StandupKind
from storage.db import Database
from storage.models import InboundEvent

PLATFORM = "test"
WORKSPACE = "W1"
CHANNEL = Place("C1", "ml-team")


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL the block ran, one entry a statement."""
    ran: list[str] = []

    def note(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        ran.append(sql)

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield ran
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", note)


async def lease_plans(db: Database, table: str) -> tuple[int, int]:
    """How often PostgreSQL ran the lease on ``table`` with a plan made once for every
    execution (generic) and with one made for that execution (custom), on the connection
    leases run on."""
    async with db.claims() as session:
        plans = await session.execute(
            text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE 'WITH picked%UPDATE ' || :table || ' %'"
            ),
            {"table": table},
        )
        generic, custom = plans.one()
    return int(generic), int(custom)


async def recorded(db: Database) -> list[str]:
    """The delivery ids recorded as handled, oldest first."""
    async with db.session() as session:
        rows = await session.execute(select(InboundEvent.delivery_id).order_by(InboundEvent.id))
        return list(rows.scalars())


@dataclass
class Posted:
    op: str
    to: str
    message: Message
    thread: str | None = None
    ref: str = ""

    @property
    def text(self) -> str:
        return self.message.plain_text()


@dataclass
class RecordingPort:
    """Stands in for a chat platform: records what arrives, fails on request."""

    platform: str = PLATFORM
    log: list[Posted] = field(default_factory=list)
    fail_next: list[SendError | Exception] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def _take(self, op: str, to: str, message: Message, thread: str | None = None) -> Sent:
        if self.fail_next:
            raise self.fail_next.pop(0)
        ref = f"m{next(self._ids)}"
        self.log.append(Posted(op, to, message, thread, ref))
        return Sent(to, ref)

    async def post(
        self, workspace: str, channel: str, message: Message, *, thread: str | None = None
    ) -> Sent:
        return self._take("post", channel, message, thread)

    async def direct(self, workspace: str, user: str, message: Message) -> Sent:
        return self._take("direct", user, message)

    async def update(self, workspace: str, sent: Sent, message: Message) -> Sent:
        return self._take("update", sent.channel, message, sent.ref)

    async def ephemeral(
        self, workspace: str, channel: str, user: str, message: Message, *, via: str | None = None
    ) -> Sent:
        return self._take("ephemeral", f"{channel}/{user}", message)

    def to(self, who: str) -> list[Posted]:
        return [p for p in self.log if p.to == who]


def person(user: str, tz: str = "UTC", name: str | None = None) -> Actor:
    return Actor(PLATFORM, WORKSPACE, user, name or user.capitalize(), tz)


class Team:
    """One workspace's bot, its clock and its platform, driven the way people drive it."""

    def __init__(self, db: Database, start: datetime, kinds: Registry | None = None) -> None:
        self.clock = FakeClock(start)
        self.port = RecordingPort()
        self.runtime = Runtime(db=db, clock=self.clock)
        self.bot = Rituals(self.runtime, kinds or registry())
        self.delivery = Delivery(db, {PLATFORM: self.port}, self.clock)

    @property
    def standups(self) -> StandupKind:
        """The stand-up kind, for steps a scheduler would run (prompts, sweeps)."""
        kind = self.bot.kinds["standup"]
        assert isinstance(kind, StandupKind)
        return kind

    async def type(self, actor: Actor, text: str, *, delivery_id: str | None = None) -> str:
        reply = await self.bot.command(actor, CHANNEL, text, delivery_id=delivery_id)
        return reply.message.plain_text() if reply else ""

    async def dm(self, actor: Actor, text: str, *, ref: str | None = None) -> str:
        reply = await self.bot.direct_message(actor, text, ref=ref)
        return reply.message.plain_text() if reply else ""

    async def deliver(self) -> list[Posted]:
        before = len(self.port.log)
        await self.delivery.drain()
        return self.port.log[before:]

    async def at(self, when: datetime) -> None:
        """Move the clock and run what a scheduler would: sweep reminders and summaries."""
        self.clock.set(when)
        for kind in self.bot.kinds.values():
            for sweep in kind.sweeps():
                await sweep.run()

    async def advance(self, delta: timedelta) -> None:
        await self.at(self.clock.now() + delta)
