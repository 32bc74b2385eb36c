"""A channel's ritual of one kind: one row per channel and kind, made on first use.

Every kind but the stand-up keeps its channel's settings on such a row, made the first time
anyone uses the kind there; concurrent first uses agree on one row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Ritual
from storage.queries import insert_ignoring_conflicts


async def ensure(
    session: AsyncSession,
    channel_id: int,
    kind: str,
    tz: str,
    now: datetime,
    *,
    lead: int | None = None,
    lock: bool = False,
) -> Ritual:
    """The row, inserted in ``tz`` (and led by ``lead``) if the channel has none yet."""
    stmt = insert_ignoring_conflicts(session, Ritual, ["channel_id", "kind"])
    await session.execute(
        stmt.values(
            channel_id=channel_id,
            kind=kind,
            tz=tz,
            paused=False,
            version=1,
            options={},
            lead_member_id=lead,
            created_at=now,
            updated_at=now,
        )
    )
    ritual = await find(session, channel_id, kind, lock=lock)
    assert ritual is not None
    return ritual


async def find(
    session: AsyncSession, channel_id: int, kind: str, *, lock: bool = False
) -> Ritual | None:
    """The row if there is one; ``lock`` makes writers of the same channel's ritual (two
    items numbered at once) take turns."""
    query = select(Ritual).where(Ritual.channel_id == channel_id, Ritual.kind == kind)
    if lock:
        query = query.with_for_update(of=Ritual)
    return (await session.execute(query)).scalar_one_or_none()
