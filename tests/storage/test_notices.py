"""Word between processes on one PostgreSQL database: what one tells, the listener hears."""

from __future__ import annotations

import asyncio

import pytest

from storage import notices
from storage.db import Database


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
async def test_a_listener_hears_what_another_connection_tells_once_committed(
    db: Database,
) -> None:
    teller = Database(db.url)
    heard: list[str] = []
    arrived = asyncio.Event()

    def hear(payload: str) -> None:
        heard.append(payload)
        arrived.set()

    try:
        async with notices.listening(db, notices.SCHEDULE, hear):
            await notices.tell(teller, notices.SCHEDULE, "42")
            await notices.tell(teller, "somebody_else", "7")
            await asyncio.wait_for(arrived.wait(), 5)
            await notices.tell(teller, notices.SCHEDULE, "43")
            for _ in range(100):
                if len(heard) == 2:
                    break
                await asyncio.sleep(0.02)
        await notices.tell(teller, notices.SCHEDULE, "44")
        await asyncio.sleep(0.1)
    finally:
        await teller.dispose()
    assert heard == ["42", "43"]


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
async def test_listening_goes_on_after_its_connection_is_lost(db: Database) -> None:
    teller = Database(db.url)
    heard: list[str] = []
    stop = asyncio.Event()

    async def until_heard(payload: str) -> None:
        for _ in range(300):
            await notices.tell(teller, notices.SCHEDULE, payload)
            await asyncio.sleep(0.05)
            if payload in heard:
                return
        raise AssertionError(f"{payload!r} never heard: {heard}")

    task = asyncio.create_task(
        notices.keep_listening(db, notices.SCHEDULE, heard.append, stop, again_after=0.05)
    )
    try:
        await until_heard("1")
        async with teller.engine.begin() as connection:
            ended = await connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()"
            )
            assert ended.all()
        await until_heard("2")
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
        await teller.dispose()
