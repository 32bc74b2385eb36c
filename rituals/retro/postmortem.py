"""A post-mortem another kind hands over (a resolved critical alert): a retro in the
post-mortem format, opened with the timeline under "What happened"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.kinds import Handoff, Taken
from rituals.retro import board
from rituals.retro.channel import open_retro, ritual_for
from rituals.retro.formats import RetroFormat
from rituals.retro.models import Retro, RetroItem
from rituals.retro.opening import Settings, open_board
from rituals.where import where_of
from storage.models import Channel, Member

TIMELINE_STEPS = 20


async def take(
    session: AsyncSession, channel: Channel, handoff: Handoff, now: datetime, by: Member | None
) -> Taken:
    source = handoff.source[:200]
    made = (await session.execute(select(Retro).where(Retro.source == source))).scalar_one_or_none()
    if made is not None:
        return Taken(
            f"The post-mortem for {handoff.label or handoff.title} is retro #{made.id}.",
            ref=f"retro:{made.id}",
        )
    ritual = await ritual_for(session, channel, by.tz if by else "UTC", now)
    settings = Settings(
        title=handoff.title[:300], format=RetroFormat.postmortem.value, anonymous=False
    )
    retro = await open_board(session, ritual, settings, now, facilitator_id=by.id if by else None)
    if retro is None:
        current = await open_retro(session, channel.id)
        named = f" ({current.title})" if current and current.title else ""
        return Taken(
            f"A retro is open in this channel already{named}; close it, then open "
            "the post-mortem again."
        )
    retro.source = source
    timeline = handoff.details.get("timeline", ())
    steps = [str(s)[:500] for s in timeline] if isinstance(timeline, Sequence) else []
    items = [
        RetroItem(
            ritual_id=ritual.id, retro_id=retro.id, category="happened", text=step, author_id=None
        )
        for step in steps[:TIMELINE_STEPS]
    ]
    session.add_all(items)
    await session.flush()
    where = await where_of(session, channel.id)
    await board.refresh(session, retro, now)
    await board.post_items(session, retro, where, [i.id for i in items], now)
    return Taken(
        f"Post-mortem open: retro #{retro.id} “{retro.title}”, with the timeline under What "
        "happened; add impact, root cause and what we change.",
        ref=f"retro:{retro.id}",
    )
