"""The inbound journal: requests stored on arrival, handled lane by lane, deleted when done.

Storing is what an edge does before it acknowledges the platform, so it is one statement for
a whole batch of concurrent requests; handling happens afterwards, claimed with leases like the
outbox, so a process that dies mid-way leaves its rows to be handled again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import JournalDeadLetter, JournalEntry
from storage.queries import claim_lane_heads, inserting_once, prepared


@dataclass(frozen=True)
class Arrival:
    """One verified request as the edge received it. ``lane`` keeps one person's requests in
    order; ``delivery_id`` is the platform's id for it, so a retried delivery is stored once."""

    platform: str
    delivery_id: str
    lane: str
    content_type: str
    body: str


_COLUMNS = [
    "platform",
    "delivery_id",
    "lane",
    "content_type",
    "body",
    "received_at",
    "attempts",
    "next_attempt_at",
]


def _append(session: AsyncSession) -> Any:
    """Store requests, skipping a delivery the journal already holds."""
    return inserting_once(session, JournalEntry.__table__, _COLUMNS, ["platform", "delivery_id"])


async def append(session: AsyncSession, arrivals: list[Arrival], now: datetime) -> None:
    """Store a batch in one statement; a delivery already in the journal is skipped."""
    if not arrivals:
        return
    await session.execute(
        prepared(session, "journal append", lambda: _append(session)),
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


async def held(session: AsyncSession, lanes: set[str]) -> set[str]:
    """Which of ``lanes`` have a request waiting to be handled (by any process)."""
    if not lanes:
        return set()
    query = prepared(
        session,
        "journal lanes held",
        lambda: (
            select(JournalEntry.lane)
            .where(JournalEntry.lane.in_(bindparam("lanes", expanding=True)))
            .distinct()
        ),
    )
    rows = await session.execute(query, {"lanes": sorted({lane[:300] for lane in lanes})})
    found = set(rows.scalars())
    return {lane for lane in lanes if lane[:300] in found}


async def claim(
    session: AsyncSession,
    worker: str,
    now: datetime,
    *,
    platforms: list[str],
    limit: int,
    lease: timedelta,
    workers: int = 1,
) -> list[JournalEntry]:
    """Take up to ``limit`` rows of ``platforms``, each the oldest of its lane, leaving the
    other ``workers`` their share; another platform's rows wait for a process that handles it."""
    return await claim_lane_heads(
        session,
        JournalEntry,
        worker,
        now,
        platforms=platforms,
        limit=limit,
        lease=lease,
        workers=workers,
    )


async def done(session: AsyncSession, ids: list[int]) -> None:
    """Forget handled rows; the handling itself recorded the delivery id for dedup."""
    if ids:
        table = JournalEntry.__table__
        forget = prepared(
            session,
            "journal done",
            lambda: delete(table).where(table.c.id.in_(bindparam("ids", expanding=True))),
        )
        await session.execute(forget, {"ids": ids})


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


async def set_aside(
    session: AsyncSession, entry: JournalEntry, *, worker: str, reason: str, now: datetime
) -> bool:
    """Move a request that cannot be handled out of its lane into the dead letters, with the
    reason; False when this worker no longer holds it (another took it over)."""
    taken = await session.execute(
        delete(JournalEntry)
        .where(JournalEntry.id == entry.id, JournalEntry.claimed_by == worker)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.add(
        JournalDeadLetter(
            platform=entry.platform,
            delivery_id=entry.delivery_id,
            lane=entry.lane,
            content_type=entry.content_type,
            body=entry.body,
            received_at=entry.received_at,
            failed_at=now,
            attempts=entry.attempts + 1,
            reason=reason[:2000],
        )
    )
    return True


async def dead_letters(session: AsyncSession, limit: int = 100) -> list[JournalDeadLetter]:
    rows = await session.execute(
        select(JournalDeadLetter).order_by(JournalDeadLetter.id.desc()).limit(limit)
    )
    return list(rows.scalars())


async def replay(session: AsyncSession, ids: list[int] | None, now: datetime) -> int:
    """Put set-aside requests back into the journal (all of them with ``ids`` None), to be
    handled again by a running process; returns how many went back."""
    query = select(JournalDeadLetter)
    if ids is not None:
        query = query.where(JournalDeadLetter.id.in_(ids))
    letters = list((await session.execute(query.order_by(JournalDeadLetter.id))).scalars())
    if not letters:
        return 0
    await session.execute(
        _append(session),
        [
            {
                "platform": d.platform,
                "delivery_id": d.delivery_id,
                "lane": d.lane,
                "content_type": d.content_type,
                "body": d.body,
                "received_at": d.received_at,
                "attempts": 0,
                "next_attempt_at": now,
            }
            for d in letters
        ],
    )
    await session.execute(
        delete(JournalDeadLetter).where(JournalDeadLetter.id.in_([d.id for d in letters]))
    )
    return len(letters)


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
