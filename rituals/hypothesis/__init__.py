"""Hypothesis check-ins: bets written as a canvas (we believe X will result in Y; we'll know
when METRIC reaches TARGET), checked with their owner on a cadence, fed by monitoring, shown
to the channel in a weekly digest and closed with what was learned."""

from __future__ import annotations

from collections.abc import Collection, Hashable
from datetime import datetime, timedelta
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import permissions
from rituals.commands import Command, Grammar
from rituals.commands.tokens import button_id
from rituals.context import CommandContext
from rituals.hypothesis import commands, digest, metrics, recall, store, views, week
from rituals.hypothesis import forms as form
from rituals.hypothesis import grammar as g
from rituals.hypothesis.checkins import PROBE as CHECKIN_PROBE
from rituals.hypothesis.checkins import Checkins
from rituals.hypothesis.models import Hypothesis
from rituals.kinds import (
    Handoff,
    Kind,
    Notice,
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
from rituals.runtime import Runtime
from rituals.schedule import local_date
from storage.models import Channel, Member


class HypothesisKind(Kind):
    word = g.WORD
    title = "hypothesis check-in"
    verbs = g.VERBS
    help = (
        "hypothesis add We believe X will result in Y; we'll know when METRIC OP TARGET "
        "[by YYYY-MM-DD] [checkin daily|weekly [DAY]|CRON] [owner @user] [baseline N] "
        "[model NAME] (alone, a form on Slack and Teams) · hypothesis list [open|mine|all] · "
        "hypothesis show ID · hypothesis checkin ID on-track|at-risk|validated|invalidated "
        "[METRIC=VALUE] TEXT · hypothesis close ID validated|invalidated|pivot [TEXT] · "
        "hypothesis digest [DAY HH:MM | off] · hypothesis lead @user · "
        "hypothesis coleads @a @b | none"
    )
    intro = "hypotheses the team bets on, checked in with their owners and closed with a lesson"
    start_hint = "`hypothesis add` proposes one"
    forms = frozenset({form.ADD, form.CHECKIN})
    channel_forms = frozenset({form.ADD})
    bare_forms = MappingProxyType({"add": form.ADD})
    takes = frozenset({"metric"})

    def __init__(self, runtime: Runtime, grammar: Grammar) -> None:
        super().__init__(runtime, grammar)
        self.checkins = Checkins(runtime)
        self.digests = digest.Digests(runtime)

    # --- commands, forms and buttons --------------------------------------------------

    async def handle(self, ctx: CommandContext, command: Command) -> Reply:
        match command:
            case g.HypothesisList(scope):
                return await commands.listing(ctx, scope)
            case g.HypothesisShow(number):
                return await commands.show(ctx, number)
            case g.HypothesisCheckin(number, status, given, text):
                found = await commands.resolve(ctx, number, lock=True)
                return await commands.checkin(ctx, found, status.value, given, text)
            case g.HypothesisClose(number, outcome, text):
                found = await commands.resolve(ctx, number, lock=True)
                return await commands.close(ctx, found, outcome.value, text, self.peers)
        if ctx.channel is None:
            return commands.IN_A_CHANNEL
        match command:
            case g.HypothesisAdd():
                return await commands.add(ctx, ctx.channel, command)
            case g.HypothesisDigest():
                return await digest.command(ctx, ctx.channel, command)
            case g.HypothesisLead(user):
                return await self._leads(ctx, ctx.channel, user=user)
            case g.HypothesisColeads(users):
                return await self._leads(ctx, ctx.channel, coleads=users)
        return say("That hypothesis command is not known.", context="Type `hypothesis`.")

    async def _leads(
        self,
        ctx: CommandContext,
        channel: Channel,
        *,
        user: str | None = None,
        coleads: tuple[str, ...] = (),
    ) -> Reply:
        """Who leads the channel's hypotheses: the lead hands on, or names co-leads."""
        ritual = await store.existing_ritual(ctx.session, channel.id)
        if ritual is None:
            return say("No hypotheses here yet.", context="`hypothesis add …` proposes one.")
        return await permissions.change_leads(
            ctx, ritual, self.title, user=user, coleads=coleads, whose="hypotheses"
        )

    async def open_form(self, ctx: CommandContext, form_id: str, value: str) -> Form | Message:
        if form_id == form.ADD:
            if ctx.channel is None:
                return commands.IN_A_CHANNEL.message
            return form.add_form(ctx.channel)
        number = button_id(value)
        found = None if number is None else await commands.by_id(ctx, number)
        if not isinstance(found, Hypothesis):
            return Message(text="That check-in is out of date.")
        return form.checkin_form(found.id, found.metric, found.number)

    async def submit_form(
        self, ctx: CommandContext, form_id: str, context: str, values: dict[str, str]
    ) -> Reply | dict[str, str]:
        if form_id == form.CHECKIN:
            return await form.submit_checkin(ctx, context, values)
        if ctx.channel is None:
            return {"": "Open that form from the channel it is for."}
        return await form.submit_add(ctx, ctx.channel, values)

    async def press(self, ctx: CommandContext, action_id: str, value: str) -> Reply | None:
        """Close as validated/invalidated after a check-in; the next step to the backlog."""
        if action_id not in ("hypothesis.validated", "hypothesis.invalidated", "hypothesis.next"):
            return None
        number = button_id(value)
        if number is None:
            return say("That button is out of date.", context="Type `hypothesis` for the commands.")
        found = await commands.by_id(ctx, number)
        if action_id != "hypothesis.next":
            outcome = action_id.removeprefix("hypothesis.")
            return await commands.close(ctx, found, outcome, "", self.peers)
        return await self._next_step(ctx, found)

    async def _next_step(self, ctx: CommandContext, found: Hypothesis | Reply) -> Reply:
        if isinstance(found, Reply):
            return found
        refused = await commands.may_change(ctx, found)
        if refused is not None:
            return refused
        channel = await ctx.session.get_one(Channel, found.channel_id)
        taken = await self.peers.take(
            ctx.session,
            channel,
            Handoff(
                "task",
                commands.next_step_title(found),
                source=f"{g.WORD}:{found.id}",
                label=f"hypothesis #{found.number}",
                owner_id=found.owner_id,
                category="experiment",
            ),
            ctx.now,
            ctx.member,
        )
        if taken is None:
            return say("There is no backlog here to add it to.")
        return say(taken.text)

    async def home(self, ctx: CommandContext) -> list[Section]:
        rows = await ctx.session.execute(
            select(Hypothesis)
            .where(Hypothesis.owner_id == ctx.member.id, Hypothesis.state.in_(store.OPEN_STATES))
            .order_by(Hypothesis.id)
            .limit(20)
        )
        found = list(rows.scalars())
        if not found:
            return []
        today = local_date(ctx.now, ctx.member.tz)
        lines = "\n".join(f"• {views.line(h, today)}" for h in found)
        return [Section(text=f"*Your hypotheses*\n{lines}")]

    # --- what kinds give each other ------------------------------------------------------

    async def take(
        self,
        session: AsyncSession,
        channel: Channel,
        handoff: Handoff,
        now: datetime,
        by: Member | None,
    ) -> Taken | None:
        if handoff.what != "metric":
            return None
        return await metrics.take(session, channel, handoff, now)

    async def origin(self, session: AsyncSession, channel: Channel, source: str) -> str | None:
        """``hypothesis #3: we believe …``, the hypothesis a next step was handed on from."""
        word, _, row = source.partition(":")
        if word != g.WORD or not (row.isascii() and row.isdigit() and len(row) <= 18):
            return None
        h = await session.get(Hypothesis, int(row))
        if h is None or h.channel_id != channel.id:
            return None
        bet = views.short(f"we believe {h.belief} will result in {h.result}", 100)
        return f"hypothesis #{h.number}: {bet}"

    async def notices(
        self, session: AsyncSession, channel: Channel, since: datetime | None, now: datetime
    ) -> list[Notice]:
        return await metrics.notices(session, channel, since, now)

    async def recall(
        self, session: AsyncSession, channel: Channel, query: Recall, limit: int
    ) -> list[Recalled]:
        return await recall.recall(session, channel, query, limit)

    async def week(
        self, session: AsyncSession, channel: Channel, since: datetime, until: datetime
    ) -> list[Week]:
        return await week.week(session, channel, since, until)

    # --- private conversation ---------------------------------------------------------

    async def waiting(self, session: AsyncSession, member: Member, now: datetime) -> Waiting | None:
        return await self.checkins.waiting(session, member, now)

    def waiting_probe(self) -> Probe:
        return CHECKIN_PROBE

    async def answer(
        self, ctx: CommandContext, waiting: Waiting, text: str, ref: str | None
    ) -> Reply | None:
        typed_command = isinstance(self.grammar.parse(text), Command)
        return await self.checkins.answer(ctx, waiting, text, typed_command)

    async def ask_again(self, ctx: CommandContext, waiting: Waiting) -> Message | None:
        return await self.checkins.ask_again(ctx, waiting)

    async def skip(self, ctx: CommandContext, waiting: Waiting, *, stop: bool) -> Reply:
        return await self.checkins.skip(ctx, waiting, stop=stop)

    # --- schedule ---------------------------------------------------------------------

    async def catch_up(self) -> int:
        return await self.digests.catch_up() + await self.checkins.sweep()

    def sweeps(self) -> list[Sweep]:
        return [Sweep("hypothesis.checkins", timedelta(minutes=1), self.checkins.sweep)]

    async def versions(
        self, session: AsyncSession, ritual_ids: Collection[int] | None = None
    ) -> dict[int, Hashable]:
        return await self.digests.versions(session, ritual_ids)

    async def slots(self, ritual_id: int) -> list[Slot]:
        return await self.digests.slots(ritual_id)


KIND = HypothesisKind

__all__ = ["KIND", "HypothesisKind"]
