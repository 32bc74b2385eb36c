"""The weekly digest: once a week, what each of a channel's rituals did (`Kind.week`), in
one post a reader outside the team can follow; written by the model when the workspace has
it on, plain otherwise. Its leads, the leads of the channel's other rituals and workspace
admins set when it goes out."""

from __future__ import annotations

from collections.abc import Collection, Hashable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import channel_ritual, permissions
from rituals.commands import Command, Grammar
from rituals.context import CommandContext
from rituals.digest import grammar as g
from rituals.digest import schedule
from rituals.digest.schedule import OPTION, Digests
from rituals.kinds import Kind, Slot
from rituals.people import display
from rituals.reply import Reply, say
from rituals.runtime import Runtime
from rituals.weekly import Weekly, set_on
from storage.models import Channel, Member, Ritual

IN_A_CHANNEL = say("Set the digest in the channel it is for.", context=f"Try: {g.EXAMPLE}")


class DigestKind(Kind):
    word = g.WORD
    title = "weekly digest"
    verbs = g.VERBS
    help = (
        "digest weekly DAY HH:MM [tz Area/City] — every week, what this channel's rituals did, "
        "in one post for readers outside the team (written by the model when it is on) · "
        "digest now (the week up to now) · digest status · digest off · "
        "digest lead @user · digest coleads @a @b | none"
    )

    def __init__(self, runtime: Runtime, grammar: Grammar) -> None:
        super().__init__(runtime, grammar)
        self.digests = Digests(runtime, lambda: self.peers)

    async def handle(self, ctx: CommandContext, command: Command) -> Reply:
        if ctx.channel is None:
            return IN_A_CHANNEL
        channel = ctx.channel
        match command:
            case g.DigestStatus():
                return await self._status(ctx, channel)
            case g.DigestLead(user):
                return await self._leads(ctx, channel, user=user)
            case g.DigestColeads(users):
                return await self._leads(ctx, channel, coleads=users)
        ritual = await channel_ritual.find(ctx.session, channel.id, g.WORD, lock=True)
        refused = await self._refused(ctx, channel, ritual)
        if refused is not None:
            return refused
        if ritual is None:
            ritual = await channel_ritual.ensure(
                ctx.session, channel.id, g.WORD, ctx.member.tz, ctx.now, lock=True
            )
        match command:
            case g.DigestWeekly(weekday, at, tz):
                return self._weekly(ctx, ritual, Weekly(weekday, at), tz or ctx.member.tz)
            case g.DigestOff():
                set_on(ritual, OPTION, None)
                ctx.ritual_changed(ritual)
                return say("The weekly digest is off.", public=True)
            case g.DigestNow():
                await schedule.post(self.rt, self.peers, ctx.session, ritual, ctx.now, ctx.now)
                return say("The digest of the week up to now is posted here.")
        return say("That digest command is not known.", context="Type `digest help`.")

    def _weekly(self, ctx: CommandContext, ritual: Ritual, weekly: Weekly, tz: str) -> Reply:
        set_on(ritual, OPTION, weekly)
        ritual.tz = tz
        if ritual.lead_member_id is None:
            ritual.lead_member_id = ctx.member.id
        ctx.ritual_changed(ritual)
        return say(
            f"The weekly digest of this channel comes {weekly.describe(tz)}: what its rituals "
            "did that week, for readers outside the team.",
            public=True,
            context="`digest now` shows one now; `digest off` stops it.",
        )

    async def _status(self, ctx: CommandContext, channel: Channel) -> Reply:
        ritual = await channel_ritual.find(ctx.session, channel.id, g.WORD)
        weekly = schedule.setting(ritual) if ritual is not None else None
        if ritual is None or weekly is None:
            return say("This channel has no weekly digest.", context=f"Try: {g.EXAMPLE}")
        return say(
            f"The weekly digest comes {weekly.describe(ritual.tz)}.",
            context="`digest off` stops it; `digest now` shows one now.",
        )

    async def _refused(
        self, ctx: CommandContext, channel: Channel, ritual: Ritual | None
    ) -> Reply | None:
        """Leads of the digest or of any of the channel's rituals, and admins, may set it;
        in a channel where nobody leads anything, anyone may. Refused, nothing is written."""
        others = await self.peers.leads(ctx.session, channel)
        if ritual is not None and await permissions.may_change(ctx, ritual, *others):
            return None
        if ritual is None and (ctx.actor.admin or not others or ctx.member.id in others):
            return None
        found = await ctx.session.execute(select(Member).where(Member.id.in_(others)))
        members = list(found.scalars())
        if ritual is not None:
            who = await permissions.who_may(ctx, ritual, *members)
        else:
            who = ", ".join(dict.fromkeys(display(m) for m in members)) + " or a workspace admin"
        return say(f"Only {who} can change this channel's digest.")

    async def _leads(
        self,
        ctx: CommandContext,
        channel: Channel,
        *,
        user: str | None = None,
        coleads: tuple[str, ...] = (),
    ) -> Reply:
        ritual = await channel_ritual.find(ctx.session, channel.id, g.WORD)
        if ritual is None:
            return say("This channel has no weekly digest.", context=f"Try: {g.EXAMPLE}")
        return await permissions.change_leads(
            ctx, ritual, self.title, user=user, coleads=coleads, whose="digest"
        )

    # --- schedule ---------------------------------------------------------------------

    async def catch_up(self) -> int:
        return await self.digests.catch_up()

    async def versions(
        self, session: AsyncSession, ritual_ids: Collection[int] | None = None
    ) -> dict[int, Hashable]:
        return await self.digests.versions(session, ritual_ids)

    async def slots(self, ritual_id: int) -> list[Slot]:
        return await self.digests.slots(ritual_id)


KIND = DigestKind

__all__ = ["KIND", "DigestKind"]
