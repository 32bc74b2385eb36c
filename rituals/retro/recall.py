"""A channel's retro items as passages `ask` can draw on; an anonymous one stays anonymous."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.kinds import Recall, Recalled
from rituals.llm.search import matching, within
from rituals.retro import formats
from rituals.retro.channel import display
from rituals.retro.models import Retro, RetroItem
from storage.models import Channel, Member


async def recall(
    session: AsyncSession, channel: Channel, query: Recall, limit: int
) -> list[Recalled]:
    if not query.terms:
        return []
    condition, rank = matching(session, RetroItem.text, query.terms)
    ranked = rank.label("rank")
    stmt = (
        select(RetroItem, Retro, Member, ranked)
        .join(Retro, Retro.id == RetroItem.retro_id)
        .outerjoin(Member, Member.id == RetroItem.author_id)
        .where(Retro.channel_id == channel.id, condition, *within(Retro.opened_at, query))
        .order_by(ranked.desc(), Retro.opened_at.desc(), RetroItem.id)
        .limit(limit)
    )
    found = []
    for item, retro, author, score in (await session.execute(stmt)).all():
        day = retro.opened_at.date()
        title = retro.title or f"Retro of {day.isoformat()}"
        found.append(
            Recalled(
                ritual=f"retro “{title}”",
                day=day,
                text=f"{formats.label(retro.format, item.category)}: {item.text}",
                who=display(author) if author is not None else None,
                rank=float(score),
            )
        )
    return found
