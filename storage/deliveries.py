"""Platform deliveries already handled: a retried delivery changes nothing twice.

Each request records its delivery id in the unit of work that handles it. A batch of stored
requests records all of theirs in one statement first (`record_ahead`); each request then
learns from memory whether it is the first delivery, and the ids of requests not handled by
the time the batch commits are taken back, as if never recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import bindparam, delete, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import before_commit
from storage.models import InboundEvent
from storage.queries import inserting_once, prepared

log = structlog.get_logger(__name__)

EVENTS = InboundEvent.__table__
ID_LENGTH = 200
COLUMNS = ["platform", "delivery_id", "received_at"]
# Where a unit of work keeps the ids recorded ahead and not yet asked about: True for a first
# delivery, False for a replay.
_AHEAD = "deliveries recorded ahead"

Key = tuple[str, str]


def _key(platform: str, delivery_id: str) -> Key:
    return platform, delivery_id[:ID_LENGTH]


async def first(
    session: AsyncSession, platform: str, delivery_id: str | None, now: datetime
) -> bool:
    """Record the delivery; whether this is its first (a request with no id always is)."""
    if delivery_id is None:
        return True
    key = _key(platform, delivery_id)
    ahead: dict[Key, bool] = session.info.get(_AHEAD, {})
    fresh = ahead.pop(key) if key in ahead else key in await _record(session, [key], now)
    if not fresh:
        log.info("redelivery ignored", platform=platform, delivery_id=delivery_id)
    return fresh


async def forget(session: AsyncSession, platform: str, delivery_id: str | None) -> None:
    """Unrecord a delivery whose request changed nothing: it may come again, corrected."""
    if delivery_id is not None:
        await _unrecord(session, [_key(platform, delivery_id)])


async def record_ahead(
    session: AsyncSession, deliveries: Sequence[tuple[str, str]], now: datetime
) -> None:
    """Record a batch's deliveries in one statement; `first` then answers each from memory,
    in this unit of work."""
    keys = sorted({_key(platform, delivery_id) for platform, delivery_id in deliveries})
    if keys:
        fresh = await _record(session, keys, now)
        session.info[_AHEAD] = {key: key in fresh for key in keys}
        before_commit(session, _AHEAD, _take_back_unasked)


async def _record(session: AsyncSession, keys: list[Key], now: datetime) -> set[Key]:
    """Record ``keys`` in one INSERT; those not recorded before."""
    count = len(keys)
    stmt = prepared(
        session,
        ("deliveries", count),
        lambda: inserting_once(
            session,
            EVENTS,
            COLUMNS,
            ["platform", "delivery_id"],
            returning=["platform", "delivery_id"],
            rows=count,
        ),
    )
    values: dict[str, Any] = {}
    for n, (platform, delivery_id) in enumerate(keys):
        row = {"platform": platform, "delivery_id": delivery_id, "received_at": now}
        values.update(row if count == 1 else {f"{c}_{n}": v for c, v in row.items()})
    return {(row.platform, row.delivery_id) for row in await session.execute(stmt, values)}


async def _unrecord(session: AsyncSession, keys: list[Key]) -> None:
    unrecord = prepared(
        session,
        "deliveries unrecorded",
        lambda: delete(EVENTS).where(
            tuple_(EVENTS.c.platform, EVENTS.c.delivery_id).in_(bindparam("keys", expanding=True))
        ),
    )
    await session.execute(unrecord, {"keys": keys})


async def _take_back_unasked(session: AsyncSession) -> None:
    """Before the commit, unrecord what `record_ahead` recorded for requests not handled
    (the batch ended early, or commits half-way for a call to a platform): they are handled
    later, and must then be first deliveries."""
    ahead: dict[Key, bool] = session.info.pop(_AHEAD, {})
    unasked = [key for key, fresh in ahead.items() if fresh]
    if unasked:
        await _unrecord(session, unasked)
