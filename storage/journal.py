"""The inbound journal: requests stored on arrival, handled lane by lane, deleted when done.

Storing is what an edge does before it acknowledges the platform, so it is one statement for
a whole batch of concurrent requests; handling happens afterwards, claimed with leases like the
outbox, so a process that dies mid-way leaves its rows to be handled again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import JournalEntry
from storage.queries import claim_lane_heads, insert_ignoring_conflicts


@dataclass(frozen=True)
class Arrival:
    """One verified request as the edge received it. ``lane`` keeps one person's requests in
    order; ``delivery_id`` is the platform's id for it, so a retried delivery is stored once."""

    platform: str
    delivery_id: str
    lane: str
    content_type: str
    body: str


async def append(session: AsyncSession, arrivals: list[Arrival], now: datetime) -> None:
    """Store a batch in one statement; a delivery already in the journal is skipped."""
    if not arrivals:
        return
    stmt = insert_ignoring_conflicts(session, JournalEntry, ["platform", "delivery_id"])
    await session.execute(
        stmt,
        [
            {
                "platform": a.platform,
                "delivery_id": a.delivery_id[:200],
                "lane": a.lane[:300],
                "content_type": a.content_type[:100],
                "body": a.body,
                "received_at": now,
                "attempts": 0,
                "next_attempt_at": now,
            }
            for a in arrivals
        ],
    )


async def claim(
    session: AsyncSession,
    worker: str,
    now: datetime,
    *,
    platforms: list[str],
    limit: int,
    lease: timedelta,
) -> list[JournalEntry]:
    """Take up to ``limit`` rows of ``platforms``, each the oldest of its lane; another
    platform's rows wait for a process that handles it."""
    return await claim_lane_heads(
        session, JournalEntry, worker, now, platforms=platforms, limit=limit, lease=lease
    )


async def done(session: AsyncSession, ids: list[int]) -> None:
    """Forget handled rows; the handling itself recorded the delivery id for dedup."""
    if ids:
        await session.execute(
            delete(JournalEntry)
            .where(JournalEntry.id.in_(ids))
            .execution_options(synchronize_session=False)
        )


async def retry_later(
    session: AsyncSession, entry_id: int, *, worker: str, attempts: int, at: datetime
) -> None:
    """Put a row back after its handling failed, if this worker still holds it."""
    await session.execute(
        update(JournalEntry)
        .where(JournalEntry.id == entry_id, JournalEntry.claimed_by == worker)
        .values(attempts=attempts, next_attempt_at=at, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


async def release(session: AsyncSession, ids: list[int], *, worker: str) -> None:
    """Give back claims this worker will not finish (it is stopping), so another process,
    or this one after a restart, takes them at once rather than when the lease runs out."""
    if ids:
        await session.execute(
            update(JournalEntry)
            .where(JournalEntry.id.in_(ids), JournalEntry.claimed_by == worker)
            .values(claimed_until=None, claimed_by=None)
            .execution_options(synchronize_session=False)
        )


async def pending(session: AsyncSession) -> int:
    """How many requests wait to be handled (for metrics and tests)."""
    return int((await session.execute(select(func.count(JournalEntry.id)))).scalar_one())
