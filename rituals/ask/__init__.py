"""Ask the history: private answers from the channel's own rituals (whatever every kind
recalls of it), and the kind that carries the model's background work (summaries awaiting
their written version)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

from rituals.ask import answering, choice
from rituals.ask import grammar as g
from rituals.commands import Command, Grammar
from rituals.context import CommandContext
from rituals.kinds import Kind, Sweep
from rituals.llm import summaries
from rituals.llm.search import recall_of
from rituals.messages import plural
from rituals.reply import Reply, say
from rituals.runtime import Runtime

LIMIT = 12
WRITE_EVERY = timedelta(seconds=5)


class AskKind(Kind):
    word = g.WORD
    title = "question"
    verbs = g.VERBS
    help = (
        "ask QUESTION — a private answer from this channel's rituals (stand-ups, retros, "
        "hypotheses, alerts, the backlog), citing the days and rituals it drew on · "
        "ask model (how the model is set) · ask model off|on (workspace admins)"
    )

    def __init__(self, runtime: Runtime, grammar: Grammar) -> None:
        super().__init__(runtime, grammar)
        self._answering: set[asyncio.Task[None]] = set()

    async def handle(self, ctx: CommandContext, command: Command) -> Reply:
        match command:
            case g.AskModel(on=None):
                return await choice.status(ctx, self.rt.llm)
            case g.AskModel(on=bool(on)):
                return await choice.switch(ctx, self.rt.llm, on)
            case g.AskQuestion(text):
                return await self.question(ctx, text)
        return await super().handle(ctx, command)

    async def question(self, ctx: CommandContext, text: str) -> Reply:
        if ctx.channel is None or ctx.place is None:
            return say("Ask in the channel whose history you mean.", context=f"Try: {g.EXAMPLE}")
        channel = ctx.channel.name or ctx.channel.external_id
        today = ctx.now.astimezone(ZoneInfo(ctx.member.tz or "UTC")).date()
        query = recall_of(text, today)
        if not query.terms:
            return say(
                "Sorry — that question has no word to search the history for.",
                context=f"Try: {g.EXAMPLE}",
            )
        found = await self.peers.recall(ctx.session, ctx.channel, query, LIMIT)
        if not found:
            return Reply(answering.nothing_found(channel, text))
        if not await summaries.wanted(ctx.session, self.rt.llm, ctx.workspace.id):
            return Reply(
                answering.passages_message(
                    channel, text, found, "The model is off here; these passages match."
                )
            )
        actor, place, now = ctx.actor, ctx.place, ctx.now

        async def later() -> None:
            task = asyncio.create_task(
                answering.answer_later(self.rt, actor, place, channel, text, found, now)
            )
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)

        ctx.then(later)
        return say(
            f"Looking through {plural(len(found), 'passage')} of #{channel}'s history — "
            "the answer follows here in a moment."
        )

    async def settled(self) -> None:
        """Wait for answers still being written (shutdown, tests)."""
        while self._answering:
            await asyncio.gather(*self._answering, return_exceptions=True)

    def sweeps(self) -> list[Sweep]:
        return [Sweep("llm.summaries", WRITE_EVERY, self.write_summaries)]

    async def write_summaries(self) -> int:
        return await summaries.sweep(self.rt)


KIND = AskKind
