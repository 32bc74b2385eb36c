"""A channel's retro ritual, its open board, and the outbox addresses of its messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import channel_ritual, permissions
from rituals.context import CommandContext
from rituals.reply import Reply, say
from rituals.retro.models import Retro
from storage.models import Channel, Member, Ritual

KIND = "retro"


async def ritual_for(session: AsyncSession, channel: Channel, tz: str, now: datetime) -> Ritual:
    """The channel's retro ritual, made on first use in ``tz`` (the zone of whoever made
    it, unless that would say who)."""
    return await channel_ritual.ensure(session, channel.id, KIND, tz, now)


async def existing_ritual(
    session: AsyncSession, channel_id: int, *, lock: bool = False
) -> Ritual | None:
    """The channel's retro ritual; ``lock`` makes an item filed for the next retro and a
    board opening take turns, so the board never misses an item filed as it opened."""
    return await channel_ritual.find(session, channel_id, KIND, lock=lock)


async def open_retro(session: AsyncSession, channel_id: int, *, lock: bool = False) -> Retro | None:
    """The channel's open board; ``lock`` holds it while anything on it changes.

    Changes to one board take turns: each queues the board as it renders it, so the one
    committed last must see all the others, or the channel keeps a stale board.
    """
    query = select(Retro).where(Retro.channel_id == channel_id, Retro.closed_at.is_(None))
    if lock:
        query = query.with_for_update()
    return (
        await session.execute(query.execution_options(populate_existing=True))
    ).scalar_one_or_none()


async def last_retro(session: AsyncSession, ritual_id: int) -> Retro | None:
    return (
        await session.execute(
            select(Retro)
            .where(Retro.ritual_id == ritual_id)
            .order_by(Retro.opened_at.desc(), Retro.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


def display(member: Member | None) -> str:
    if member is None:
        return "someone"
    return member.name or member.external_id


async def refusal(ctx: CommandContext, retro: Retro, ritual: Ritual, doing: str) -> Reply | None:
    """None when the actor may ``doing`` this board (its facilitator, the channel's retro
    leads, a workspace admin); else a reply naming who may."""
    if await permissions.may_change(ctx, ritual, retro.facilitator_id):
        return None
    facilitator = (
        await ctx.session.get(Member, retro.facilitator_id) if retro.facilitator_id else None
    )
    return say(f"Only {await permissions.who_may(ctx, ritual, facilitator)} can {doing}.")
