"""Opening boards, by hand or on schedule, and revealing a hidden board's items.

The unique ``open_ritual_id`` is the claim: of two starts at once (two people, or a person
and the schedule) one opens the board and the other finds it open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.context import CommandContext
from rituals.messages import plural
from rituals.reply import Reply, say
from rituals.retro import board, formats
from rituals.retro.channel import existing_ritual, open_retro, refusal, ritual_for
from rituals.retro.formats import RetroFormat
from rituals.retro.grammar import DEFAULT_VOTES, RetroStart
from rituals.retro.items import waiting_ids
from rituals.retro.models import Retro, RetroItem
from rituals.where import where_of
from storage.models import Channel, Ritual
from storage.queries import claim_unset, insert_ignoring_conflicts

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Settings:
    title: str = ""
    format: str = RetroFormat.default.value
    anonymous: bool = True
    hidden: bool = False
    votes: int = DEFAULT_VOTES

    @classmethod
    def like(cls, retro: Retro | None, title: str) -> Settings:
        """A scheduled board takes the settings of the channel's last one."""
        if retro is None:
            return cls(title=title)
        return cls(title, retro.format, retro.allow_anonymous, retro.hidden, retro.votes_per_person)


async def open_board(
    session: AsyncSession,
    ritual: Ritual,
    settings: Settings,
    now: datetime,
    *,
    facilitator_id: int | None,
) -> Retro | None:
    """Open the channel's board with the items filed for it; None when one is open already."""
    await existing_ritual(session, ritual.channel_id, lock=True)
    stmt = insert_ignoring_conflicts(session, Retro, ["open_ritual_id"])
    created = await session.execute(
        stmt.values(
            ritual_id=ritual.id,
            channel_id=ritual.channel_id,
            title=settings.title,
            format=settings.format,
            allow_anonymous=settings.anonymous,
            hidden=settings.hidden,
            votes_per_person=settings.votes,
            facilitator_id=facilitator_id,
            open_ritual_id=ritual.id,
            opened_at=now,
        ).returning(Retro.id)
    )
    retro_id = created.scalar_one_or_none()
    if retro_id is None:
        return None
    retro = await session.get_one(Retro, retro_id)
    filed = await waiting_ids(session, ritual.id)
    if filed:
        await session.execute(
            update(RetroItem)
            .where(RetroItem.id.in_(filed), RetroItem.retro_id.is_(None))
            .values(retro_id=retro.id)
            .execution_options(synchronize_session=False)
        )
    where = await where_of(session, ritual.channel_id)
    await board.post(session, retro, where, now)
    if not retro.hidden:
        await board.post_items(session, retro, where, filed, now)
    log.info("retro opened", ritual_id=ritual.id, retro_id=retro.id, items=len(filed))
    return retro


async def start(ctx: CommandContext, channel: Channel, command: RetroStart) -> Reply:
    ritual = await ritual_for(ctx.session, channel, ctx.member.tz, ctx.now)
    settings = Settings(
        command.title, command.format.value, command.anonymous, command.hidden, command.votes
    )
    retro = await open_board(ctx.session, ritual, settings, ctx.now, facilitator_id=ctx.member.id)
    if retro is None:
        current = await open_retro(ctx.session, channel.id)
        return say(
            f"A retro is already open here{_named(current)}.",
            context="`retro close` it first; one retro at a time per channel.",
        )
    if ritual.lead_member_id is None:
        ritual.lead_member_id = ctx.member.id  # the first facilitator leads the channel's retros
    words = formats.words(retro.format)
    hidden = " Items stay hidden until you `retro reveal` them." if retro.hidden else ""
    return say(
        f"Retro open — the board is in the channel.{hidden}",
        context=f"Add with `retro add CATEGORY text` ({words}); you close it with `retro close`.",
    )


def _named(retro: Retro | None) -> str:
    if retro is None or not retro.title:
        return ""
    return f": {retro.title}"


async def reveal(ctx: CommandContext, channel: Channel) -> Reply:
    session = ctx.session
    retro = await open_retro(session, channel.id, lock=True)
    if retro is None:
        return say("No retro is open in this channel.", context="Start one with `retro start`.")
    ritual = await session.get_one(Ritual, retro.ritual_id)
    refused = await refusal(ctx, retro, ritual, "reveal this board")
    if refused is not None:
        return refused
    if not retro.hidden:
        return say("This board's items are visible already.")
    if not await claim_unset(session, Retro.revealed_at, retro.id, ctx.now):
        return say("The items are revealed already.")
    retro.revealed_at = ctx.now
    found = await board.cards(session, retro.id)
    where = await where_of(session, channel.id)
    await board.post_items(session, retro, where, [c.id for c in found], ctx.now)
    await board.refresh(session, retro, ctx.now)
    return say(f"Revealed {plural(len(found), 'item')}; voting is open.")


def title_for(day: date) -> str:
    return f"Retro {day.isoformat()}"
