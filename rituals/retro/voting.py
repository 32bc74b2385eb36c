"""Dot voting: a budget of votes per person and board, one vote per item.

The budget holds under concurrent votes on any backend: every vote takes one unit with a
conditional update of the voter's own budget row (``used < budget``), which the database
applies one at a time per row, and gives it back if the vote itself is refused.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.context import CommandContext
from rituals.messages import plural
from rituals.reply import Reply, say
from rituals.retro import board
from rituals.retro.models import Retro, RetroItem, RetroVote, RetroVoter
from storage.models import Channel, Member, Ritual
from storage.queries import insert_ignoring_conflicts


async def vote(ctx: CommandContext, channel: Channel, item_id: int) -> Reply:
    session = ctx.session
    found = await _item(session, channel.id, item_id)
    if found is None:
        return say(
            f"Sorry — there is no item #{item_id} on this channel's retros.",
            context="The ids are on the board and in its thread.",
        )
    item, retro = found
    if retro is None:
        return say(f"#{item_id} waits for the next retro; vote once it opens.")
    if retro.closed_at is not None:
        title = retro.title or "That retro"
        return say(f"Sorry — {title} is closed; votes are no longer counted.")
    if retro.hidden and retro.revealed_at is None:
        return say("Voting opens once the facilitator reveals the items (`retro reveal`).")
    if await _voted(session, item.id, ctx.member):
        return say(f"You already voted for #{item.id}.", context=await _left(session, retro, ctx))
    if not await _take(session, retro, ctx.member):
        return say(
            f"You have used all {plural(retro.votes_per_person, 'vote')} on this retro.",
            context="Votes cannot be moved once cast.",
        )
    stmt = insert_ignoring_conflicts(session, RetroVote, ["item_id", "member_id"])
    cast = await session.execute(
        stmt.values(
            retro_id=retro.id, item_id=item.id, member_id=ctx.member.id, cast_at=ctx.now
        ).returning(RetroVote.id)
    )
    if cast.scalar_one_or_none() is None:
        await _give_back(session, retro, ctx.member)
        return say(f"You already voted for #{item.id}.", context=await _left(session, retro, ctx))
    await board.refresh(session, retro, ctx.now)
    return say(f"Voted for #{item.id}.", context=await _left(session, retro, ctx))


async def _item(
    session: AsyncSession, channel_id: int, item_id: int
) -> tuple[RetroItem, Retro | None] | None:
    """The item, if it belongs to this channel, and its board, locked: votes on one board
    take turns (see `channel.open_retro`), and a vote after a close sees it closed."""
    row = (
        await session.execute(
            select(RetroItem)
            .join(Ritual, Ritual.id == RetroItem.ritual_id)
            .where(RetroItem.id == item_id, Ritual.channel_id == channel_id)
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    if row.retro_id is None:
        return row, None
    retro = (
        await session.execute(
            select(Retro)
            .where(Retro.id == row.retro_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    return row, retro


async def _voted(session: AsyncSession, item_id: int, member: Member) -> bool:
    found = await session.execute(
        select(RetroVote.id).where(RetroVote.item_id == item_id, RetroVote.member_id == member.id)
    )
    return found.first() is not None


async def _take(session: AsyncSession, retro: Retro, member: Member) -> bool:
    """One unit of the voter's budget, or False when it is spent."""
    stmt = insert_ignoring_conflicts(session, RetroVoter, ["retro_id", "member_id"])
    await session.execute(stmt.values(retro_id=retro.id, member_id=member.id, used=0))
    taken = await session.execute(
        update(RetroVoter)
        .where(
            RetroVoter.retro_id == retro.id,
            RetroVoter.member_id == member.id,
            RetroVoter.used < retro.votes_per_person,
        )
        .values(used=RetroVoter.used + 1)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1  # type: ignore[attr-defined]


async def _give_back(session: AsyncSession, retro: Retro, member: Member) -> None:
    await session.execute(
        update(RetroVoter)
        .where(RetroVoter.retro_id == retro.id, RetroVoter.member_id == member.id)
        .values(used=RetroVoter.used - 1)
        .execution_options(synchronize_session=False)
    )


async def _left(session: AsyncSession, retro: Retro, ctx: CommandContext) -> str:
    used = await session.scalar(
        select(RetroVoter.used).where(
            RetroVoter.retro_id == retro.id, RetroVoter.member_id == ctx.member.id
        )
    )
    left = retro.votes_per_person - (used or 0)
    return f"{plural(left, 'vote')} left of {retro.votes_per_person}."
