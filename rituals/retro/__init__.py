"""Retrospectives: a board per channel, items (anonymous if allowed), dot votes, a summary
with action items that are carried and reminded until done, and an optional cadence."""

from __future__ import annotations

from collections.abc import Collection, Hashable
from datetime import datetime, timedelta
from types import MappingProxyType

from sqlalchemy.ext.asyncio import AsyncSession

from rituals import permissions
from rituals.commands import Command, Grammar
from rituals.commands.tokens import MAX_ID
from rituals.context import CommandContext
from rituals.kinds import (
    Handoff,
    Kind,
    Probe,
    Recall,
    Recalled,
    Slot,
    Sweep,
    Taken,
    Waiting,
    Week,
)
from rituals.messages import Form, Message, Section
from rituals.reply import Reply, say
from rituals.retro import (
    closing,
    followup,
    handoff,
    items,
    opening,
    postmortem,
    recall,
    voting,
    week,
)
from rituals.retro import grammar as g
from rituals.retro.channel import existing_ritual
from rituals.retro.forms import ADD, add_form, submit_add
from rituals.retro.schedule import Cadence, set_cadence, unset_cadence
from rituals.runtime import Runtime
from storage.models import Channel, Member

IN_A_CHANNEL = say(
    "Retro commands work in the channel of the retro.",
    context="In private, `retro actions` lists your own open action items.",
)


class RetroKind(Kind):
    word = g.WORD
    title = "retro"
    verbs = g.VERBS
    help = (
        "retro start [title] [format default|ssc|4ls|postmortem] [anon|named] [hidden] "
        "[votes N] · retro add CATEGORY TEXT [anon] (alone, a form on Slack and Teams; with no "
        "retro open the item waits for the next) · retro vote ID · retro reveal · "
        "retro close · retro actions · retro done A3 · "
        "retro schedule every N weeks on DAY at HH:MM [tz Area/City] | off · "
        "retro lead @user · retro coleads @a @b | none"
    )
    intro = "retro boards the team fills, votes on and turns into action items"
    start_hint = "`retro start` opens a retro"
    free_text_answers = False
    forms = frozenset({ADD})
    channel_forms = frozenset({ADD})
    bare_forms = MappingProxyType({"add": ADD})
    takes = frozenset({"postmortem"})

    def __init__(self, runtime: Runtime, grammar: Grammar) -> None:
        super().__init__(runtime, grammar)
        self.cadence = Cadence(runtime)
        self.reminders = followup.Reminders(runtime)

    # --- commands, forms and buttons --------------------------------------------------

    async def handle(self, ctx: CommandContext, command: Command) -> Reply:
        if isinstance(command, g.RetroActions):
            return await followup.listing(ctx, self.peers)
        if isinstance(command, g.RetroDone):
            return await followup.mark(ctx, command.action_id, done=True)
        if ctx.channel is None:
            return IN_A_CHANNEL
        return await self._in_channel(ctx, ctx.channel, command)

    async def _in_channel(self, ctx: CommandContext, channel: Channel, command: Command) -> Reply:
        match command:
            case g.RetroStart():
                return await opening.start(ctx, channel, command)
            case g.RetroAdd(category, text, anonymous):
                return await items.add(ctx, channel, category, text, anonymous)
            case g.RetroAddAlone():
                return await items.missing_category(ctx, channel)
            case g.RetroVote(item_id):
                return await voting.vote(ctx, channel, item_id)
            case g.RetroReveal():
                return await opening.reveal(ctx, channel)
            case g.RetroClose():
                return await closing.close(ctx, channel, self.peers, self.rt.llm)
            case g.RetroSchedule():
                return await set_cadence(ctx, channel, command)
            case g.RetroUnschedule():
                return await unset_cadence(ctx, channel)
            case g.RetroLead(user):
                return await self._leads(ctx, channel, user=user)
            case g.RetroColeads(users):
                return await self._leads(ctx, channel, coleads=users)
        return say("That retro command is not known.", context="Type `retro` for the commands.")

    async def _leads(
        self,
        ctx: CommandContext,
        channel: Channel,
        *,
        user: str | None = None,
        coleads: tuple[str, ...] = (),
    ) -> Reply:
        """Who leads the channel's retros: the lead hands on, or names co-leads."""
        ritual = await existing_ritual(ctx.session, channel.id)
        if ritual is None:
            return say("No retro has run in this channel yet.", context="`retro start` opens one.")
        return await permissions.change_leads(
            ctx, ritual, "retro", user=user, coleads=coleads, whose="retros"
        )

    async def open_form(self, ctx: CommandContext, form_id: str, value: str) -> Form | Message:
        if ctx.channel is None:
            return IN_A_CHANNEL.message
        return await add_form(ctx, ctx.channel)

    async def submit_form(
        self, ctx: CommandContext, form_id: str, context: str, values: dict[str, str]
    ) -> Reply | dict[str, str]:
        if ctx.channel is None:
            return {"": "Open that form from the channel it is for."}
        return await submit_add(ctx, ctx.channel, values)

    async def press(self, ctx: CommandContext, action_id: str, value: str) -> Reply | None:
        """``retro.vote`` on an item; ``retro.done`` / ``retro.open`` on an action item, and
        ``retro.task`` to hand it on as a task (to the backlog)."""
        if action_id not in ("retro.vote", "retro.done", "retro.open", handoff.ACTION):
            return None
        number = int(value) if value.isascii() and value.isdigit() and len(value) <= 10 else 0
        if not 1 <= number <= MAX_ID:
            return say("That button is out of date.", context="Type `retro` for the commands.")
        if action_id == handoff.ACTION:
            return await handoff.hand_on(ctx, self.peers, number)
        if action_id == "retro.vote":
            if ctx.channel is None:
                return IN_A_CHANNEL
            return await voting.vote(ctx, ctx.channel, number)
        return await followup.mark(ctx, number, done=action_id == "retro.done")

    async def replied(
        self, ctx: CommandContext, thread: str, text: str, ref: str | None
    ) -> Reply | None:
        if ctx.channel is None:
            return None
        return await items.replied(ctx, ctx.channel, thread, text)

    async def home(self, ctx: CommandContext) -> list[Section]:
        mine = await followup.mine(ctx.session, ctx.member)
        if not mine:
            return []
        lines = "\n".join(f"• {a.line()}" for a in mine)
        return [Section(text=f"*Your retro action items*\n{lines}")]

    async def take(
        self,
        session: AsyncSession,
        channel: Channel,
        handoff: Handoff,
        now: datetime,
        by: Member | None,
    ) -> Taken | None:
        if handoff.what != "postmortem":
            return None
        return await postmortem.take(session, channel, handoff, now, by)

    async def origin(self, session: AsyncSession, channel: Channel, source: str) -> str | None:
        return await handoff.origin(session, channel, source)

    # --- private conversation ---------------------------------------------------------

    async def waiting(self, session: AsyncSession, member: Member, now: datetime) -> Waiting | None:
        return await self.reminders.waiting(session, member, now)

    def waiting_probe(self) -> Probe:
        return followup.PROBE

    async def answer(
        self, ctx: CommandContext, waiting: Waiting, text: str, ref: str | None
    ) -> Reply | None:
        typed_command = isinstance(self.grammar.parse(text), Command)
        return await self.reminders.answer(ctx, waiting, text, typed_command)

    async def ask_again(self, ctx: CommandContext, waiting: Waiting) -> Message | None:
        return await self.reminders.ask_again(ctx, waiting)

    async def skip(self, ctx: CommandContext, waiting: Waiting, *, stop: bool) -> Reply:
        return await self.reminders.skip(ctx, waiting, stop=stop)

    # --- schedule ---------------------------------------------------------------------

    async def recall(
        self, session: AsyncSession, channel: Channel, query: Recall, limit: int
    ) -> list[Recalled]:
        return await recall.recall(session, channel, query, limit)

    async def week(
        self, session: AsyncSession, channel: Channel, since: datetime, until: datetime
    ) -> list[Week]:
        return await week.week(session, channel, since, until)

    async def catch_up(self) -> int:
        return await self.cadence.catch_up()

    def sweeps(self) -> list[Sweep]:
        return [Sweep("retro.reminders", timedelta(minutes=1), self.reminders.sweep)]

    async def versions(
        self, session: AsyncSession, ritual_ids: Collection[int] | None = None
    ) -> dict[int, Hashable]:
        return await self.cadence.versions(session, ritual_ids)

    async def slots(self, ritual_id: int) -> list[Slot]:
        return await self.cadence.slots(ritual_id)


KIND = RetroKind

__all__ = ["KIND", "RetroKind"]
