"""A channel's backlog ritual (who leads its sprints), and the references buttons carry.

A button's value names the channel it acts on, because Teams shows a person's private
replies in their own chat, where a press comes with no channel; the channel is looked up in
the presser's own workspace only, so a value naming another workspace's finds nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.context import CommandContext
from storage.models import Channel, Ritual
from storage.queries import insert_ignoring_conflicts

KIND = "backlog"
SEP = "|"


async def ritual_for(
    session: AsyncSession, channel: Channel, tz: str, now: datetime, lead: int | None = None
) -> Ritual:
    """The channel's backlog ritual, made on first use; whoever first uses it leads it (as
    the first facilitator leads a channel's retros) until they hand it on."""
    stmt = insert_ignoring_conflicts(session, Ritual, ["channel_id", "kind"])
    await session.execute(
        stmt.values(
            channel_id=channel.id,
            kind=KIND,
            tz=tz,
            paused=False,
            version=1,
            options={},
            lead_member_id=lead,
            created_at=now,
            updated_at=now,
        )
    )
    return await existing_ritual(session, channel.id)  # type: ignore[return-value]


async def existing_ritual(
    session: AsyncSession, channel_id: int, *, lock: bool = False
) -> Ritual | None:
    """``lock``: items filed at once take turns for their numbers."""
    query = select(Ritual).where(Ritual.channel_id == channel_id, Ritual.kind == KIND)
    if lock:
        query = query.with_for_update(of=Ritual)
    return (await session.execute(query)).scalar_one_or_none()


def ref(channel: Channel, *parts: object) -> str:
    """A button value: the channel (whose id never holds the separator), then its parts, of
    which only the last may hold the separator (a filter's sprint name)."""
    return SEP.join([channel.external_id, *(str(p) for p in parts)])


async def channel_of(
    ctx: CommandContext, value: str, count: int
) -> tuple[Channel, list[str]] | None:
    """The channel and ``count`` parts a button value holds; None when it names no channel
    of this workspace, or another channel than the one it was pressed in."""
    parts = value.split(SEP, count)
    if len(parts) != count + 1:
        return None
    external, *found = parts
    if ctx.channel is not None:
        return (ctx.channel, found) if ctx.channel.external_id == external else None
    channel = (
        await ctx.session.execute(
            select(Channel).where(
                Channel.workspace_id == ctx.workspace.id, Channel.external_id == external
            )
        )
    ).scalar_one_or_none()
    return None if channel is None else (channel, found)
