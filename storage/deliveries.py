"""Platform deliveries already handled: a delivery id recorded once, so a retried or replayed
request changes nothing twice.

Each request records its id as it is handled. In a batch (many requests, one commit) the ids
are held and recorded together just before the commit, in one statement instead of one each;
an id the batch already recorded is caught at once, and one recorded by an earlier commit
fails the whole batch (`Redelivered`), which its caller handles again request by request,
where each id is checked as it comes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import BatchBroken, Database
from storage.models import InboundEvent
from storage.queries import inserting_once, prepared

log = structlog.get_logger(__name__)

_COLUMNS = ["platform", "delivery_id", "received_at"]
_KEY = ["platform", "delivery_id"]
# Rows per statement when a batch records its ids: bounded, so no backend's limit on bound
# values is ever near.
_AT_MOST = 64


class Redelivered(BatchBroken):
    """Ids a batch held were already recorded: a request of the batch was handled before."""


@dataclass
class _Held:
    rows: dict[tuple[str, str], datetime] = field(default_factory=dict)


async def first(
    db: Database, session: AsyncSession, platform: str, delivery_id: str | None, now: datetime
) -> bool:
    """Record the delivery; False if it was already (a retry or a replay): ignore it."""
    if delivery_id is None:
        return True
    key = (platform, delivery_id[:200])
    held = db.held_for_commit(session, "deliveries", _Held, _record)
    if held is None:
        result = await session.execute(_statement(session, 1), _values([(key, now)]))
        first = result.first() is not None
    else:
        first = key not in held.rows
        held.rows.setdefault(key, now)
    if not first:
        log.info("redelivery ignored", platform=platform, delivery_id=delivery_id)
    return first


async def forget(
    db: Database, session: AsyncSession, platform: str, delivery_id: str | None
) -> None:
    """Unrecord a delivery: a form refused with field errors comes back under the same id
    once corrected."""
    if delivery_id is None:
        return
    key = (platform, delivery_id[:200])
    held = db.held_for_commit(session, "deliveries", _Held, _record)
    if held is not None and held.rows.pop(key, None) is not None:
        return
    platform_is, id_is = InboundEvent.platform == key[0], InboundEvent.delivery_id == key[1]
    await session.execute(delete(InboundEvent).where(platform_is, id_is))


async def _record(session: AsyncSession, held: _Held) -> None:
    """A batch's held ids, recorded as it commits: the batch fails if any was there before."""
    rows, held.rows = list(held.rows.items()), {}
    for start in range(0, len(rows), _AT_MOST):
        chunk = rows[start : start + _AT_MOST]
        result = await session.execute(_statement(session, len(chunk)), _values(chunk))
        recorded = {(platform, delivery_id) for platform, delivery_id in result.all()}
        again = [key for key, _ in chunk if key not in recorded]
        if again:
            raise Redelivered(
                f"{len(again)} of the batch's requests were handled before, "
                f"such as {again[0][0]} {again[0][1]}"
            )


def _statement(session: AsyncSession, rows: int) -> Any:
    """The insert of ``rows`` ids, built once per backend and row count."""
    return prepared(
        session,
        ("first delivery", rows),
        lambda: inserting_once(
            session, InboundEvent.__table__, _COLUMNS, _KEY, returning=_KEY, rows=rows
        ),
    )


def _values(rows: list[tuple[tuple[str, str], datetime]]) -> dict[str, object]:
    if len(rows) == 1:
        (platform, delivery_id), at = rows[0]
        return {"platform": platform, "delivery_id": delivery_id, "received_at": at}
    values: dict[str, object] = {}
    for n, ((platform, delivery_id), at) in enumerate(rows):
        values.update(
            {f"platform_{n}": platform, f"delivery_id_{n}": delivery_id, f"received_at_{n}": at}
        )
    return values
