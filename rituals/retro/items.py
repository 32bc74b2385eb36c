"""Adding items: to the channel's open board, or filed for its next retro when none is open;
by command, by form, or by a ``well: …`` reply in the board's thread.

An anonymous item keeps no trace of its author: no column, no log field, and a reply to
them that names neither the item nor its text and is deleted from the outbox once sent.
"""

from __future__ import annotations

import re

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.context import CommandContext
from rituals.messages import Message
from rituals.reply import Reply, say
from rituals.retro import board, formats
from rituals.retro.channel import existing_ritual, last_retro, open_retro, ritual_for
from rituals.retro.formats import RetroFormat
from rituals.retro.grammar import MAX_ITEM
from rituals.retro.models import Retro, RetroItem
from rituals.where import where_of
from storage.models import Channel, OutboxMessage, Ritual

log = structlog.get_logger(__name__)

ANONYMOUS_REPLY = "Added anonymously."


async def board_format(session: AsyncSession, ritual: Ritual | None, retro: Retro | None) -> str:
    """The format an item is checked against: the open board's, else the last one's."""
    if retro is not None:
        return retro.format
    last = await last_retro(session, ritual.id) if ritual is not None else None
    return last.format if last is not None else RetroFormat.default.value


def refusal(fmt: str, retro: Retro | None, category: str, anonymous: bool) -> str | None:
    """Why this item cannot go on the board, or None when it can."""
    if formats.category(fmt, category) is None:
        return f"'{category[:20]}' is not a category of this retro; use {formats.words(fmt)}"
    if anonymous and retro is not None and not retro.allow_anonymous:
        return "this retro takes named items only: add it without `anon`"
    return None


async def add(
    ctx: CommandContext, channel: Channel, category: str, text: str, anonymous: bool
) -> Reply:
    session = ctx.session
    existing = await existing_ritual(session, channel.id, lock=True)
    retro = await open_retro(session, channel.id, lock=True)
    fmt = await board_format(session, existing, retro)
    refused = refusal(fmt, retro, category, anonymous)
    if anonymous and ctx.place is not None and ctx.place.visible:
        return say(
            "The channel sees who typed this, so it cannot be anonymous; nothing was added.",
            context="Type `retro add` alone for a form: what you fill in there only the bot sees.",
        )
    if refused is not None:
        # The hint leaves the text out: an anonymous item added again must not be traceable.
        return say(f"Sorry — {refused}.", context=f"Try: retro add {_first(fmt)} YOUR TEXT")
    # An anonymous first item must not leave its author's zone on the ritual it creates.
    ritual = await ritual_for(session, channel, "UTC" if anonymous else ctx.member.tz, ctx.now)
    item = RetroItem(
        ritual_id=ritual.id,
        retro_id=retro.id if retro is not None else None,
        category=category,
        text=text,
        author_id=None if anonymous else ctx.member.id,
    )
    session.add(item)
    await session.flush()
    log.info("retro item added", ritual_id=ritual.id, waiting=retro is None)
    if retro is not None:
        await _show(session, retro, item, ctx)
    # An anonymous item's acknowledgement is not kept once sent: a stored message to its
    # author, written beside the item's own post, would link the two.
    return Reply(Message(text=_reply(fmt, retro, item, anonymous)), keep=not anonymous)


async def missing_category(ctx: CommandContext, channel: Channel) -> Reply:
    """``retro add`` typed alone where no form opens (the console): the usage, in the
    words of the board the item would go on."""
    ritual = await existing_ritual(ctx.session, channel.id)
    retro = await open_retro(ctx.session, channel.id)
    fmt = await board_format(ctx.session, ritual, retro)
    return say(
        f"Sorry — missing category ({formats.words(fmt)})",
        context=f"Try: retro add {_first(fmt)} YOUR TEXT",
    )


async def _show(session: AsyncSession, retro: Retro, item: RetroItem, ctx: CommandContext) -> None:
    if not retro.hidden or retro.revealed_at is not None:
        where = await where_of(session, retro.channel_id)
        await board.post_items(session, retro, where, [item.id], ctx.now)
    await board.refresh(session, retro, ctx.now)


def _reply(fmt: str, retro: Retro | None, item: RetroItem, anonymous: bool) -> str:
    if anonymous:
        return ANONYMOUS_REPLY if retro is not None else "Added anonymously for the next retro."
    where = f"#{item.id} under {formats.label(fmt, item.category)}"
    if retro is None:
        return f"Filed {where} for the channel's next retro: it opens with it on its board."
    if retro.hidden and retro.revealed_at is None:
        return f"Added {where}; it stays hidden until the facilitator reveals the board."
    return f"Added {where}."


def _first(fmt: str) -> str:
    return formats.categories(fmt)[0].word


async def waiting_ids(session: AsyncSession, ritual_id: int) -> list[int]:
    rows = await session.execute(
        select(RetroItem.id)
        .where(RetroItem.ritual_id == ritual_id, RetroItem.retro_id.is_(None))
        .order_by(RetroItem.id)
    )
    return list(rows.scalars())


_PREFIXED = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9-]{0,15})\s*:\s*(.+)", re.DOTALL)


async def board_of_thread(session: AsyncSession, channel: Channel, thread: str) -> Retro | None:
    """The open board whose channel post (as the platform knows it) heads ``thread``."""
    return (
        await session.execute(
            select(Retro)
            .join(OutboxMessage, OutboxMessage.id == Retro.board_outbox_id)
            .where(
                Retro.channel_id == channel.id,
                Retro.closed_at.is_(None),
                OutboxMessage.sent_ref == thread[:128],
            )
        )
    ).scalar_one_or_none()


async def replied(ctx: CommandContext, channel: Channel, thread: str, text: str) -> Reply | None:
    """``well: …`` in the board's thread adds an item; anything else there is conversation.

    A reply in a thread shows its author, so it cannot add an anonymous item.
    """
    retro = await board_of_thread(ctx.session, channel, thread)
    match = _PREFIXED.fullmatch(text)
    if retro is None or match is None:
        return None
    category, body = match[1].lower(), match[2].strip()
    if not body or formats.category(retro.format, category) is None:
        return None
    if body.split()[-1].lower() == "anon":
        return say(
            "A reply in the thread shows your name, so it cannot be anonymous.",
            context=f"Use `retro add {category} YOUR TEXT anon` instead.",
        )
    if len(body) > MAX_ITEM:
        return say(f"Sorry — that item is {len(body)} characters; the limit is {MAX_ITEM}.")
    return await add(ctx, channel, category, body, False)
