"""The stand-up as a ritual kind: what it registers with the seam, mapped onto its engine."""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from datetime import datetime, timedelta
from typing import ClassVar

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.commands import Command, Grammar
from rituals.context import CommandContext
from rituals.identity import Actor, Place
from rituals.kinds import Kind, Probe, Recall, Recalled, Slot, Sweep, Waiting, Week
from rituals.messages import Form, Message, Section
from rituals.reply import Reply
from rituals.runtime import Runtime
from rituals.standup import answering, grammar, recall, week
from rituals.standup import forms as form
from rituals.standup import settings as cfg
from rituals.standup.answering import Owed
from rituals.standup.commands import StandupCommands
from rituals.standup.engine import StandupEngine
from rituals.standup.roster import KIND
from storage.models import Channel, Member, Participant, Ritual

log = structlog.get_logger(__name__)

RESOLVE = "standup.resolve"
SWEEP_EVERY = timedelta(seconds=15)


class StandupKind(Kind):
    word = grammar.WORD
    title = "stand-up"
    verbs = grammar.VERBS
    help = (
        "standup setup [at HH:MM] [days mon-fri] [tz Area/City] [summary HH:MM] "
        "[holidays CC|none] [format short|full] [escalate DAYS] · "
        "standup questions Q1 | Q2 | Q3 · join · leave · now · status · skip YYYY-MM-DD · pause · "
        "resume · away [until YYYY-MM-DD] · back · blockers · resolve ID · report [N] · "
        "export [FROM] [TO] · edit N TEXT"
    )
    intro = (
        "an async stand-up, where each person is asked in a private chat at the set time in "
        "their own timezone and the answers, with a ledger of open blockers, come back here "
        "as one summary"
    )
    start_hint = (
        "`standup setup at 09:30` (or `standup setup` for a form), then `standup now` to try it"
    )
    forms = frozenset({form.ANSWERS, form.SETUP})
    channel_forms = frozenset({form.SETUP})
    bare_forms: ClassVar[Mapping[str, str]] = {"setup": form.SETUP}

    def __init__(self, runtime: Runtime, grammar: Grammar) -> None:
        super().__init__(runtime, grammar)
        self.engine = StandupEngine(runtime)
        self.engine.closing.notices = lambda *args: self.peers.notices(*args)
        self.commands = StandupCommands(self.engine)
        self.membership = self.engine.membership

    # Steps the scheduler runs, named as tests and the demo call them.

    async def prompt_due(self, ritual_id: int, tz: str) -> int:
        return await self.engine.prompt_due(ritual_id, tz)

    async def sweep(self) -> None:
        await self.engine.sweep()

    # --- commands, forms and buttons --------------------------------------------------

    async def before(self, actor: Actor, place: Place | None, command: Command) -> None:
        """`standup now` asks the channel's people as the platform lists them now, so a
        stand-up set up a moment ago asks everyone, not only those the bot has seen."""
        if not isinstance(command, grammar.StandupNow) or place is None:
            return
        try:
            async with self.rt.db.outside():
                ritual_id = await self.membership.ritual_in(actor, place.channel)
                if ritual_id is not None:
                    await self.membership.sync(ritual_id)
        except Exception:  # a platform outage: ask those already known rather than nobody
            log.warning("roster not synced before standup now", exc_info=True)

    async def handle(self, ctx: CommandContext, command: Command) -> Reply:
        return await self.commands.handle(ctx, command)

    async def open_form(self, ctx: CommandContext, form_id: str, value: str) -> Form | Message:
        if form_id == form.ANSWERS and value.isdigit():
            return await form.answers_form(ctx.session, ctx.member, int(value))
        if form_id == form.SETUP and ctx.channel is not None:
            return await form.setup_form(ctx.session, ctx.channel, ctx.member)
        return await super().open_form(ctx, form_id, value)

    async def submit_form(
        self, ctx: CommandContext, form_id: str, context: str, values: dict[str, str]
    ) -> Reply | dict[str, str]:
        if form_id == form.SETUP:
            text, errors = form.setup_command(values)
            if errors:
                return errors
            parsed = self.grammar.parse(text)
            if not isinstance(parsed, Command):
                return {"": parsed.error}
            return await self.handle(ctx, parsed)
        result = await form.submit_answers(
            ctx.session, self.engine.answering, ctx.member, context, values
        )
        if isinstance(result, dict):
            return result
        self._close_after(ctx, result.close)
        return Reply(result.reply)

    async def press(self, ctx: CommandContext, action_id: str, value: str) -> Reply | None:
        if action_id == RESOLVE and value.isdigit():
            return await self.handle(ctx, grammar.StandupResolve(int(value)))
        return None

    async def home(self, ctx: CommandContext) -> list[Section]:
        return await self.commands.home(ctx)

    # --- private conversation ---------------------------------------------------------

    async def waiting(self, session: AsyncSession, member: Member, now: datetime) -> Waiting | None:
        owed = await self.engine.answering.pending(session, member, now)
        if owed is None:
            return None
        return Waiting(self.word, owed.asked_at, owed)

    def waiting_probe(self) -> Probe:
        return answering.PROBE

    async def answer(
        self, ctx: CommandContext, waiting: Waiting, text: str, ref: str | None
    ) -> Reply:
        owed: Owed = waiting.handle
        answered = await self.engine.answering.answer_pending(
            ctx.session, ctx.member, owed, text, ref
        )
        self._close_after(ctx, answered.close)
        return Reply(answered.reply)

    async def skip(self, ctx: CommandContext, waiting: Waiting, *, stop: bool) -> Reply:
        answering = self.engine.answering
        step = answering.cancel if stop else answering.skip
        answered = await step(ctx.session, ctx.member, waiting.handle)
        self._close_after(ctx, answered.close)
        return Reply(answered.reply)

    async def ask_again(self, ctx: CommandContext, waiting: Waiting) -> Message | None:
        owed: Owed = waiting.handle
        return await self.engine.answering.ask_again(ctx.session, owed, ctx.now)

    async def edited(self, ctx: CommandContext, ref: str, text: str) -> Message | None:
        return await self.engine.answering.edit(ctx.session, ctx.member, ref=ref, text=text)

    def _close_after(self, ctx: CommandContext, occurrence_id: int | None) -> None:
        """The summary goes out in a unit of work of its own, once an answer that may have
        been the last has committed; answers committed together look once."""
        if occurrence_id is not None:
            closing = self.engine.closing
            ctx.then(
                lambda: closing.close_if_complete(occurrence_id), ("standup.close", occurrence_id)
            )

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
        return await self.engine.catch_up()

    def sweeps(self) -> list[Sweep]:
        return [Sweep("standup.sweep", SWEEP_EVERY, self.engine.sweep)]

    async def refresh(self, ritual_id: int | None = None) -> None:
        if ritual_id is None:
            await self.membership.sync_all()
        else:
            await self.membership.sync(ritual_id)

    async def versions(
        self, session: AsyncSession, ritual_ids: Collection[int] | None = None
    ) -> dict[int, Hashable]:
        """A stand-up's jobs follow its settings (version) and its participants' zones."""
        which = [Ritual.kind == KIND]
        if ritual_ids is not None:
            which.append(Ritual.id.in_(list(ritual_ids)))
        rows = await session.execute(select(Ritual.id, Ritual.version).where(*which))
        versions = dict(rows.tuples().all())
        zones = await session.execute(
            select(Participant.ritual_id, Member.tz)
            .join(Member, Member.id == Participant.member_id)
            .join(Ritual, Ritual.id == Participant.ritual_id)
            .where(*which)
            .distinct()
        )
        tzs: dict[int, set[str]] = {}
        for ritual_id, tz in zones.tuples():
            tzs.setdefault(ritual_id, set()).add(tz)
        return {rid: (v, tuple(sorted(tzs.get(rid, ())))) for rid, v in versions.items()}

    async def slots(self, ritual_id: int) -> list[Slot]:
        """One prompt job per participant zone, at the set wall-clock time in that zone."""
        async with self.rt.db.session() as session:
            ritual = await session.get(Ritual, ritual_id)
        if ritual is None or ritual.paused:
            return []
        return [
            Slot(tz, cfg.schedule_of(ritual, tz), self.engine.prompt_due, (ritual_id, tz))
            for tz in await self.engine.timezones(ritual_id)
        ]
