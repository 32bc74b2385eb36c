"""A channel's backlog ritual (who leads its sprints), and the references buttons carry.

A button's value names the channel it acts on, because Teams shows a person's private
replies in their own chat, where a press comes with no channel. There nothing vouches for
the channel, and a client may send any value, so each value also carries a short HMAC (with
the deployment's secret key, `CommandContext.signing_key`, the one webhook tokens are keyed
with too) over its button, channel, the person it was made for and the rest: from a private
chat only a value made for the presser, unchanged, is read. Pressed in a channel, a value
counts only for the channel it names.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import channel_ritual
from rituals.context import CommandContext
from storage.models import Channel, Ritual

KIND = "backlog"
SEP = "|"
MAC_BYTES = 16


async def ritual_for(
    session: AsyncSession, channel: Channel, tz: str, now: datetime, lead: int | None = None
) -> Ritual:
    """The channel's backlog ritual, made on first use; whoever first uses it leads it (as
    the first facilitator leads a channel's retros) until they hand it on."""
    return await channel_ritual.ensure(session, channel.id, KIND, tz, now, lead=lead)


async def existing_ritual(
    session: AsyncSession, channel_id: int, *, lock: bool = False
) -> Ritual | None:
    """``lock``: items filed at once take turns for their numbers."""
    return await channel_ritual.find(session, channel_id, KIND, lock=lock)


def _mac(key: str, action: str, external: str, member_id: int | None, rest: str) -> str:
    signed = SEP.join([action, external, str(member_id or ""), rest]).encode()
    digest = hmac.new(key.encode(), signed, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class Refs:
    """Makes button values for one recipient: a person (their replies, which Teams may show
    in their private chat), or None for a post to the channel as a whole."""

    key: str
    member_id: int | None

    def __call__(self, action: str, channel: Channel, *parts: object) -> str:
        """The channel (whose id never holds the separator), the HMAC, then the parts, of
        which only the last may hold the separator (a filter's sprint name)."""
        rest = SEP.join(str(p) for p in parts)
        mac = _mac(self.key, action, channel.external_id, self.member_id, rest)
        return SEP.join([channel.external_id, mac, rest])


async def refs(ctx: CommandContext, *, personal: bool = True) -> Refs:
    """Values for the person acting (``personal``), or for the whole channel."""
    return Refs(await ctx.signing_key(), ctx.member.id if personal else None)


async def channel_of(
    ctx: CommandContext, action: str, value: str, count: int
) -> tuple[Channel, list[str]] | None:
    """The channel and ``count`` parts a button value holds; None when it names another
    channel than the one it was pressed in or, pressed outside one, when it was not made
    for the presser as it reads (checked before anything else), or names no channel of
    this workspace."""
    external, mac, rest = [*value.split(SEP, 2), "", ""][:3]
    found = rest.split(SEP, count - 1)
    if not external or len(found) != count:
        return None
    if ctx.channel is not None:
        return (ctx.channel, found) if ctx.channel.external_id == external else None
    key = await ctx.signing_key()
    if not hmac.compare_digest(
        mac.encode(), _mac(key, action, external, ctx.member.id, rest).encode()
    ):
        return None
    channel = (
        await ctx.session.execute(
            select(Channel).where(
                Channel.workspace_id == ctx.workspace.id, Channel.external_id == external
            )
        )
    ).scalar_one_or_none()
    return None if channel is None else (channel, found)
