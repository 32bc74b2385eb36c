"""Word between processes sharing one PostgreSQL database (LISTEN/NOTIFY): a change one
process made that another must act on now rather than at its next look at the database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text

from storage.db import Database

SCHEDULE = "ritualbot_schedule"


async def tell(db: Database, channel: str, payload: str) -> None:
    """Notify every process listening on ``channel``; delivered once this commits."""
    async with db.engine.begin() as connection:
        await connection.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
        )


@asynccontextmanager
async def listening(
    db: Database, channel: str, heard: Callable[[str], object]
) -> AsyncIterator[None]:
    """Call ``heard`` with each payload notified on ``channel`` while the block runs, on one
    connection of the pool kept for it."""
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection

        def notified(_connection: object, _pid: int, _channel: str, payload: str) -> None:
            heard(payload)

        await driver.add_listener(channel, notified)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # a connection lost meanwhile: nothing to undo
                await asyncio.shield(driver.remove_listener(channel, notified))
