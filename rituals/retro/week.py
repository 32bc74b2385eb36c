"""A channel's retros over a week, for the weekly digest: the retros held, with their items
and votes, and the action items raised, done and still open."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.kinds import Week
from rituals.messages import plural
from rituals.retro.actions import DONE, OPEN, views
from rituals.retro.channel import KIND, existing_ritual
from rituals.retro.models import Retro, RetroAction, RetroItem
from storage.models import Channel

SHOWN = 6


async def week(
    session: AsyncSession, channel: Channel, since: datetime, until: datetime
) -> list[Week]:
    ritual = await existing_ritual(session, channel.id)
    if ritual is None:
        return []
    held = await session.execute(
        select(Retro, func.count(RetroItem.id))
        .outerjoin(RetroItem, RetroItem.retro_id == Retro.id)
        .where(
            Retro.ritual_id == ritual.id,
            Retro.opened_at < until,
            or_(Retro.closed_at.is_(None), Retro.closed_at >= since),
        )
        .group_by(Retro.id)
        .order_by(Retro.opened_at, Retro.id)
    )
    retros = []
    for retro, items in held.tuples():
        title = retro.title or f"Retro of {retro.opened_at.date().isoformat()}"
        state = "closed" if retro.closed_at is not None and retro.closed_at < until else "open"
        retros.append(f"Retro “{title}” ({state}): {plural(items, 'item')}")
    raised = await views(
        session,
        RetroAction.ritual_id == ritual.id,
        RetroAction.created_at >= since,
        RetroAction.created_at < until,
    )
    done = await views(
        session,
        RetroAction.ritual_id == ritual.id,
        RetroAction.status == DONE,
        RetroAction.done_at >= since,
        RetroAction.done_at < until,
    )
    still = await session.scalar(
        select(func.count())
        .select_from(RetroAction)
        .where(RetroAction.ritual_id == ritual.id, RetroAction.status == OPEN)
    )
    lines = [
        f"{plural(len(retros), 'retro')} held; action items: {len(raised)} raised, "
        f"{len(done)} done, {still or 0} open"
    ]
    lines += retros[:SHOWN]
    lines += [f"Action raised: {a.line()}" for a in raised[:SHOWN]]
    lines += [f"Action done: {a.line()}" for a in done[:SHOWN]]
    counts = {
        "retros": len(retros),
        "actions raised": len(raised),
        "actions done": len(done),
        "actions open": still or 0,
    }
    return [Week(KIND, "Retros", tuple(lines), counts)]
