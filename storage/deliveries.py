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
from sqlalchemy import bindparam, delete, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import before_commit
from storage.models import InboundEvent
from storage.queries import inserting_once, prepared

log = structlog.get_logger(__name__)

EVENTS = InboundEvent.__table__
ID_LENGTH = 200
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
    if key in ahead:
        fresh = ahead.pop(key)
    else:
        stmt = prepared(
            session,
            "first delivery",
            lambda: inserting_once(
                session,
                EVENTS,
                ["platform", "delivery_id", "received_at"],
                ["platform", "delivery_id"],
                returning="id",
            ),
        )
        values = {"platform": key[0], "delivery_id": key[1], "received_at": now}
        fresh = (await session.execute(stmt, values)).scalar_one_or_none() is not None
    if not fresh:
        log.info("redelivery ignored", platform=platform, delivery_id=delivery_id)
    return fresh


async def forget(session: AsyncSession, platform: str, delivery_id: str | None) -> None:
    """Unrecord a delivery whose request changed nothing: it may come again, corrected."""
    if delivery_id is not None:
        key = _key(platform, delivery_id)
        await session.execute(
            delete(InboundEvent).where(
                InboundEvent.platform == key[0], InboundEvent.delivery_id == key[1]
            )
        )


def _record_many(session: AsyncSession, count: int) -> Any:
    """One INSERT of ``count`` deliveries that returns those not recorded before."""
    quote = session.bind.dialect.identifier_preparer.quote
    rows = ", ".join(f"(:p{n}, :d{n}, :at)" for n in range(count))
    sql = (
        f"INSERT INTO {quote(EVENTS.name)} (platform, delivery_id, received_at) VALUES {rows} "
        "ON CONFLICT (platform, delivery_id) DO NOTHING RETURNING platform, delivery_id"
    )
    types = [bindparam("at", type_=EVENTS.c.received_at.type)]
    for n in range(count):
        types += [
            bindparam(f"p{n}", type_=EVENTS.c.platform.type),
            bindparam(f"d{n}", type_=EVENTS.c.delivery_id.type),
        ]
    return text(sql).bindparams(*types).columns(EVENTS.c.platform, EVENTS.c.delivery_id)


async def record_ahead(
    session: AsyncSession, deliveries: Sequence[tuple[str, str]], now: datetime
) -> None:
    """Record a batch's deliveries in one statement; `first` then answers each from memory,
    in this unit of work."""
    keys = sorted({_key(platform, delivery_id) for platform, delivery_id in deliveries})
    if not keys:
        return
    values: dict[str, Any] = {"at": now}
    for n, (platform, delivery_id) in enumerate(keys):
        values[f"p{n}"], values[f"d{n}"] = platform, delivery_id
    count = len(keys)
    stmt = prepared(session, ("deliveries ahead", count), lambda: _record_many(session, count))
    fresh = {(row.platform, row.delivery_id) for row in await session.execute(stmt, values)}
    session.info[_AHEAD] = {key: key in fresh for key in keys}
    before_commit(session, _AHEAD, _take_back_unasked)


async def _take_back_unasked(session: AsyncSession) -> None:
    """Before the commit, unrecord what `record_ahead` recorded for requests not handled
    (the batch ended early, or commits half-way for a call to a platform): they are handled
    later, and must then be first deliveries."""
    ahead: dict[Key, bool] = session.info.pop(_AHEAD, {})
    unasked = [key for key, fresh in ahead.items() if fresh]
    if unasked:
        await session.execute(
            delete(InboundEvent).where(
                tuple_(InboundEvent.platform, InboundEvent.delivery_id).in_(unasked)
            )
        )
