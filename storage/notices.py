"""Word between processes sharing one PostgreSQL database (LISTEN/NOTIFY): a change one
process made that another must act on now rather than at its next look at the database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from sqlalchemy import text

from storage.db import Database

SCHEDULE = "ritualbot_schedule"

log = structlog.get_logger(__name__)


async def tell(db: Database, channel: str, payload: str) -> None:
    """Notify every process listening on ``channel``; delivered once this commits."""
    async with db.engine.begin() as connection:
        await connection.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
        )


@asynccontextmanager
async def listening(
    db: Database, channel: str, heard: Callable[[str], object]
) -> AsyncIterator[asyncio.Event]:
    """Call ``heard`` with each payload notified on ``channel`` while the block runs, on one
    connection of the pool kept for it; the event it yields is set if that connection is
    lost (the server restarted), after which nothing more is heard."""
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        lost = asyncio.Event()

        def notified(_connection: object, _pid: int, _channel: str, payload: str) -> None:
            heard(payload)

        driver.add_termination_listener(lambda _connection: lost.set())
        await driver.add_listener(channel, notified)
        try:
            yield lost
        finally:
            with contextlib.suppress(Exception):  # a connection lost meanwhile: nothing to undo
                await asyncio.shield(driver.remove_listener(channel, notified))
            if lost.is_set():  # not back into the pool: the next unit of work would fail on it
                await connection.invalidate()


async def keep_listening(
    db: Database,
    channel: str,
    heard: Callable[[str], object],
    stop: asyncio.Event,
    *,
    again_after: float = 1.0,
) -> None:
    """`listening` until ``stop``, on a new connection whenever one is lost. What was
    notified meanwhile is missed: the listener must also look for itself now and then."""
    while not stop.is_set():
        try:
            async with listening(db, channel, heard) as lost:
                waits = [asyncio.ensure_future(e.wait()) for e in (lost, stop)]
                try:
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for wait in waits:
                        wait.cancel()
        except Exception as exc:  # the server is away: try again shortly
            log.warning("cannot listen for notices", channel=channel, error=str(exc)[:200])
        if stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), again_after)
