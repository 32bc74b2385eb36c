"""The front door of the domain: every edge hands its neutral events to `Rituals`.

Each event is handled in one transaction that also records its delivery id and queues the
replies, so an acknowledged event is never lost and a redelivered one changes nothing.
"""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import commands as c
from rituals.context import CommandContext
from rituals.identity import Actor, Place
from rituals.messages import Form, Message
from rituals.reply import Reply, say, usage
from rituals.runtime import Runtime
from rituals.standup import forms
from rituals.standup.commands import StandupCommands
from rituals.standup.engine import StandupEngine
from rituals.telemetry import COMMANDS
from storage import directory, outbox
from storage.models import InboundEvent
from storage.outbox import Envelope
from storage.queries import insert_ignoring_conflicts

log = structlog.get_logger(__name__)

HELP = {
    "": "Commands: `standup …` for stand-ups; `retro …`, `hypothesis …`, `backlog …` and "
    "`alerts …` are coming soon. Type a word alone (e.g. `standup`) for its commands.",
    "standup": "standup setup [at HH:MM] [days mon-fri] [tz Area/City] [summary HH:MM] "
    "[holidays CC|none] [format short|full] [escalate DAYS] · "
    "standup questions Q1 | Q2 | Q3 · join · leave · now · status · skip YYYY-MM-DD · pause · "
    "resume · away [until YYYY-MM-DD] · back · blockers · resolve ID · report [N] · "
    "export [FROM] [TO] · edit N TEXT",
    "retro": "(coming soon) retro start [title] · retro add well|improve|idea|action TEXT [anon] · "
    "retro vote ID · retro close · retro actions",
    "hypothesis": "(coming soon) hypothesis add We believe X will result in Y; "
    "we'll know when METRIC OP TARGET [by YYYY-MM-DD] · hypothesis list · "
    "checkin ID STATUS TEXT · close ID OUTCOME",
    "backlog": "(coming soon) backlog add [TYPE] [p0-p3] TITLE [@owner] · list · done ID · "
    "assign ID @user · prio ID pN · sprint ID NAME · export",
    "alerts": "(coming soon) alerts connect · alerts rule add MODEL METRIC OP THRESHOLD · "
    "alerts list · alerts mute MODEL DURATION",
}
NOT_YET = {
    c.RetroStart: "retro",
    c.RetroAdd: "retro",
    c.RetroVote: "retro",
    c.RetroClose: "retro",
    c.RetroActions: "retro",
    c.HypothesisAdd: "hypothesis",
    c.HypothesisList: "hypothesis",
    c.HypothesisCheckin: "hypothesis",
    c.HypothesisClose: "hypothesis",
    c.BacklogAdd: "backlog",
    c.BacklogList: "backlog",
    c.BacklogDone: "backlog",
    c.BacklogAssign: "backlog",
    c.BacklogPrio: "backlog",
    c.BacklogSprint: "backlog",
    c.BacklogExport: "backlog",
    c.AlertsConnect: "alerts",
    c.AlertsRuleAdd: "alerts",
    c.AlertsList: "alerts",
    c.AlertsMute: "alerts",
}


WELCOME = Message(
    text="Hi! I run this channel's async stand-up: each person is asked in a private chat at "
    "the set time in their own timezone, and the answers, with a ledger of open blockers, "
    "come back here as one summary.",
    context="Start with `standup setup at 09:30` (or `standup setup` for a form), then "
    "`standup now` to try it; `help` lists every command.",
)


def inline(reply: Reply) -> bool:
    """A reply an edge may show itself, right away: private, and with no file to send."""
    return not reply.public and reply.message.attachment is None


def means_command(text: str, parsed: c.ParseResult, *, waiting: bool) -> bool:
    """Whether a line typed to the bot is a command rather than an answer.

    While the bot waits for an answer, only a slash command or one of the few commands
    that make sense mid-answer counts, so "Backlog grooming" or "help Maria" are answers.
    """
    if text.lstrip().startswith("/"):
        return True
    if waiting:
        return isinstance(parsed, MID_ANSWER_COMMANDS)
    return not isinstance(parsed, c.Usage) or c.looks_like_command(text)


MID_ANSWER_COMMANDS = (c.StandupEdit, c.StandupAway, c.StandupBack, c.StandupStatus)


class Rituals:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.standups = StandupEngine(runtime)
        self.standup_commands = StandupCommands(self.standups)

    async def command(
        self,
        actor: Actor,
        place: Place | None,
        text: str,
        *,
        delivery_id: str | None = None,
        reply_inline: bool = False,
    ) -> Reply | None:
        """Handle a typed command; returns the reply, or None for a redelivery.

        The reply is queued for sending unless ``reply_inline`` says the edge shows a
        private reply itself (Slack answers a slash command in its acknowledgement).
        """
        return await self._handle(
            actor, place, text, delivery_id, always_command=True, reply_inline=reply_inline
        )

    async def direct_message(
        self, actor: Actor, text: str, *, ref: str | None = None, delivery_id: str | None = None
    ) -> Reply | None:
        """A message typed to the bot in private: the answer it waits for, or a command."""
        return await self._handle(actor, None, text, delivery_id, ref=ref)

    async def line(self, actor: Actor, place: Place, text: str) -> Reply | None:
        """A line typed where the channel and the private chat are one (the console).

        Commands run in the channel; anything else is an answer, as in a direct message.
        """
        return await self._handle(actor, place, text, None)

    async def _handle(
        self,
        actor: Actor,
        place: Place | None,
        text: str,
        delivery_id: str | None,
        *,
        ref: str | None = None,
        always_command: bool = False,
        reply_inline: bool = False,
    ) -> Reply | None:
        close = None
        async with self.rt.db.session() as session:
            if not await self._first_delivery(session, actor.platform, delivery_id):
                return None
            ctx = await self._context(session, actor, place)
            parsed = c.parse(text)
            answering = self.standups.answering
            found = None
            if not always_command and not text.lstrip().startswith("/"):
                found = await answering.pending(session, ctx.member, ctx.now)
            if always_command or means_command(text, parsed, waiting=found is not None):
                reply = await self._dispatch(ctx, parsed)
                target = place
            else:
                ctx.channel = None
                answered = await answering.answer_pending(session, ctx.member, found, text, ref)
                reply, close, target = Reply(answered.reply), answered.close, None
            if not (reply_inline and inline(reply)):
                await self._queue_reply(session, actor, target, reply)
        if close is not None:
            await self.standups.closing.close_if_complete(close)
        for ritual_id in ctx.changed_rituals:
            self.rt.schedule_changed(ritual_id)
        self.rt.sent_later()
        return reply

    async def introduce(
        self, platform: str, workspace: str, place: Place, *, delivery_id: str | None = None
    ) -> bool:
        """The bot was added to a channel: say once what it does and how to start there."""
        async with self.rt.db.session() as session:
            if not await self._first_delivery(session, platform, delivery_id):
                return False
            envelope = Envelope(platform, workspace, "post", channel=place.channel)
            await outbox.enqueue(session, envelope, WELCOME, self.rt.clock.now())
        self.rt.sent_later()
        return True

    async def tell(self, actor: Actor, text: str) -> None:
        """A short private note from an edge to one person, sent like any other reply."""
        async with self.rt.db.session() as session:
            await self._queue_reply(session, actor, None, say(text))
        self.rt.sent_later()

    async def home(self, actor: Actor) -> Message:
        """What a person's own page shows; read-only."""
        async with self.rt.db.session() as session:
            ctx = await self._context(session, actor, None)
            return await self.standup_commands.home(ctx)

    async def open_form(
        self, actor: Actor, place: Place | None, form_id: str, value: str
    ) -> Form | Reply:
        """The form a button or a bare command asks for; a reply when it cannot be shown."""
        async with self.rt.db.session() as session:
            ctx = await self._context(session, actor, place)
            if form_id == forms.ANSWERS and value.isdigit():
                found = await forms.answers_form(session, ctx.member, int(value))
            elif form_id == forms.SETUP and ctx.channel is not None:
                found = await forms.setup_form(session, ctx.channel, ctx.member)
            else:
                found = Message(text="That form is not available here.")
            if isinstance(found, Form):
                return found
            reply = Reply(found)
            await self._queue_reply(session, actor, None, reply)
        self.rt.sent_later()
        return reply

    async def submit_form(
        self,
        actor: Actor,
        form_id: str,
        context: str,
        values: dict[str, str],
        *,
        delivery_id: str | None = None,
    ) -> Reply | dict[str, str] | None:
        """A filled-in form: the reply, or errors by field (then nothing was stored)."""
        if form_id == forms.SETUP:
            text, errors = forms.setup_command(values)
            if errors:
                return errors
            return await self.command(actor, Place(context), text, delivery_id=delivery_id)
        if form_id != forms.ANSWERS:
            return {"": "Unknown form."}
        close = None
        async with self.rt.db.session() as session:
            ctx = await self._context(session, actor, None)
            result = await forms.submit_answers(
                session, self.standups.answering, ctx.member, context, values
            )
            if isinstance(result, dict):
                return result
            if not await self._first_delivery(session, actor.platform, delivery_id):
                return None
            reply, close = Reply(result.reply), result.close
            await self._queue_reply(session, actor, None, reply)
        if close is not None:
            await self.standups.closing.close_if_complete(close)
        self.rt.sent_later()
        return reply

    async def message_edited(
        self, actor: Actor, ref: str, text: str, *, delivery_id: str | None = None
    ) -> Reply | None:
        """A person edited a message they sent earlier: if it was an answer, update it."""
        async with self.rt.db.session() as session:
            if not await self._first_delivery(session, actor.platform, delivery_id):
                return None
            ctx = await self._context(session, actor, None)
            message = await self.standups.answering.edit(session, ctx.member, ref=ref, text=text)
            if message is None:
                return None
            reply = Reply(message)
            await self._queue_reply(session, actor, None, reply)
        self.rt.sent_later()
        return reply

    async def action(
        self,
        actor: Actor,
        place: Place | None,
        action_id: str,
        value: str,
        *,
        delivery_id: str | None = None,
    ) -> Reply | None:
        """A button press; buttons map onto the same commands people can type."""
        if action_id == "standup.resolve" and value.isdigit():
            return await self.command(
                actor, place, f"standup resolve {value}", delivery_id=delivery_id
            )
        log.warning("unknown action", action_id=action_id)
        return None

    async def _first_delivery(
        self, session: AsyncSession, platform: str, delivery_id: str | None
    ) -> bool:
        if delivery_id is None:
            return True
        stmt = insert_ignoring_conflicts(session, InboundEvent, ["platform", "delivery_id"])
        result = await session.execute(
            stmt.values(
                platform=platform, delivery_id=delivery_id[:200], received_at=self.rt.clock.now()
            ).returning(InboundEvent.id)
        )
        first = result.scalar_one_or_none() is not None
        if not first:
            log.info("redelivery ignored", platform=platform, delivery_id=delivery_id)
        return first

    async def _context(
        self, session: AsyncSession, actor: Actor, place: Place | None
    ) -> CommandContext:
        now = self.rt.clock.now()
        workspace = await directory.workspace(session, actor.platform, actor.workspace, now)
        member = await directory.member(session, workspace.id, actor.user, actor.name, actor.tz)
        channel = (
            await directory.channel(session, workspace.id, place.channel, place.name)
            if place is not None
            else None
        )
        return CommandContext(session, actor, place, workspace, member, channel, now)

    async def _dispatch(self, ctx: CommandContext, parsed: c.ParseResult) -> Reply:
        if isinstance(parsed, c.Usage):
            COMMANDS.labels(ctx.actor.platform, parsed.topic or "unknown", "usage").inc()
            return usage(parsed)
        if isinstance(parsed, c.Help):
            COMMANDS.labels(ctx.actor.platform, "help", "ok").inc()
            return say(HELP.get(parsed.topic, HELP[""]))
        if self.standup_commands.handles(parsed):
            reply = await self.standup_commands.handle(ctx, parsed)
            COMMANDS.labels(ctx.actor.platform, "standup", "ok").inc()
            return reply
        ritual = NOT_YET.get(type(parsed), "that")
        COMMANDS.labels(ctx.actor.platform, ritual, "not_available").inc()
        return say(
            f"`{ritual}` commands are understood but not available yet in this version.",
            context="Stand-ups are ready: type `standup` for their commands.",
        )

    async def _queue_reply(
        self, session: AsyncSession, actor: Actor, place: Place | None, reply: Reply
    ) -> None:
        now = self.rt.clock.now()
        if place is None:
            envelope = Envelope(actor.platform, actor.workspace, "direct", user=actor.user)
        elif reply.public:
            envelope = Envelope(actor.platform, actor.workspace, "post", channel=place.channel)
        else:
            envelope = Envelope(
                actor.platform,
                actor.workspace,
                "ephemeral",
                channel=place.channel,
                user=actor.user,
                via=place.reply_to,
            )
        await outbox.enqueue(session, envelope, reply.message, now)


__all__ = ["Message", "Rituals"]
