"""Claims on shared queues (the outbox, the inbound journal) that a crash does not strand.

Leases are short and renewed while their holder works, so a replica that dies gives its
claims up within one lease; and a process that starts takes back at once the claims of a
process on its own host that is gone (a restart), rather than waiting the lease out.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import structlog

from storage import queries
from storage.db import Database

log = structlog.get_logger(__name__)

LEASE = timedelta(seconds=20)


def worker_id(holder: object) -> str:
    """Who holds a claim: host, process and object, so a restart can tell its own."""
    return f"{socket.gethostname()}:{os.getpid()}:{id(holder):x}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def gone_from_this_host(worker: str) -> bool:
    """A claim holder that ran on this host and whose process no longer exists."""
    host, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    return host == socket.gethostname() and pid.isdigit() and not _alive(int(pid))


async def take_back(db: Database, model: Any, now: datetime) -> int:
    """Release the live claims of this host's dead processes; how many rows went free."""
    async with db.session() as session:
        holders = await queries.claim_holders(session, model, now)
        dead = [w for w in holders if gone_from_this_host(w)]
        freed = await queries.release_claims(session, model, dead)
    if freed:
        log.info("claims of a stopped process taken back", table=model.__tablename__, rows=freed)
    return freed


@contextlib.asynccontextmanager
async def renewed(
    db: Database, model: Any, worker: str, now: Callable[[], datetime], lease: timedelta
) -> AsyncIterator[None]:
    """While the block runs, push this worker's leases forward every third of a lease."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                async with db.session() as session:
                    await queries.renew_claims(session, model, worker, now() + lease)
            except Exception:  # a missed renewal costs at most a lease, never the work
                log.warning("lease renewal failed", table=model.__tablename__, exc_info=True)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
