"""The front door of the domain: every edge hands its neutral events to `Rituals`.

Each event is handled in one transaction that also records its delivery id and queues the
replies, so an acknowledged event is never lost and a redelivered one changes nothing. What
an event means is up to the ritual kinds in the registry; nothing here knows any by name.
"""

from __future__ import annotations

import structlog
from sqlalchemy import String, exists, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import commands as c
from rituals import outbound
from rituals.context import CommandContext
from rituals.identity import Actor, Place
from rituals.kinds import HookReply, Kind, Probe, Registry, Waiting
from rituals.messages import Button, ButtonStyle, Form, Message, Section
from rituals.reply import Reply, say, usage
from rituals.runtime import Runtime
from rituals.telemetry import COMMANDS
from rituals.text import storable
from storage import deliveries, direct, directory
from storage.outbox import Envelope

log = structlog.get_logger(__name__)

NOTHING_ASKED = Message(
    text="Nothing is waiting for your answer right now.",
    context="`help` lists the commands.",
)


# Typed alone, these are commands whatever is waiting: help, pass the rest of today's
# questions, or stop answering them.
PASS_WORDS = frozenset({"skip", "cancel"})
RUN_COMMAND = "ritualbot.command"
FILE_ANSWER = "ritualbot.answer"
MAX_CONFIRMED = 1900  # the line rides in the buttons' values, which Slack keeps under 2,000


def command_or_answer(text: str) -> Message:
    """The question a line gets when it could be a command or an answer."""
    shown = text if len(text) <= 80 else text[:79] + "…"
    return Message(
        text=f"“{shown}” reads like a command. Run it, or is it your answer?",
        buttons=[
            Button(label="Run it", action_id=RUN_COMMAND, value=text, style=ButtonStyle.primary),
            Button(label="It's my answer", action_id=FILE_ANSWER, value=text),
        ],
        context="Type `/` before a command to run it straight away.",
    )


def inline(reply: Reply) -> bool:
    """A reply an edge may show itself, right away: private, and with no file to send."""
    return not reply.public and reply.message.attachment is None


def means_command(grammar: c.Grammar, text: str, parsed: c.ParseResult, *, waiting: bool) -> bool:
    """Whether a line typed to the bot is a command rather than an answer.

    While the bot waits for an answer, only a slash command or one of the few commands
    that make sense mid-answer counts, so "Backlog grooming" or "help Maria" are answers.
    """
    if text.lstrip().startswith("/") or text.strip().lower() == "help":
        return True
    if waiting:
        return isinstance(parsed, c.Command) and parsed.mid_answer
    return not isinstance(parsed, c.Usage) or grammar.looks_like_command(text)


class Rituals:
    def __init__(self, runtime: Runtime, registry: Registry) -> None:
        self.rt = runtime
        self.registry = registry
        self.grammar = registry.grammar
        self.kinds: dict[str, Kind] = registry.bind(runtime)
        self._seen = directory.Seen()
        self._probes: dict[str, Probe] = {
            word: probe
            for word, kind in self.kinds.items()
            if (probe := kind.waiting_probe()) is not None
        }

    # --- what edges ask about the registered kinds ------------------------------------

    @property
    def words(self) -> tuple[str, ...]:
        """The command words (``standup``, ``retro``…): Slack registers one slash each."""
        return self.grammar.words

    @property
    def form_ids(self) -> frozenset[str]:
        return frozenset(f for kind in self.kinds.values() for f in kind.forms)

    def form_for(self, text: str) -> str | None:
        """The form a command typed alone opens instead (``standup setup``), if any."""
        words = text.strip().removeprefix("/").lower().split()
        if len(words) != 2 or words[0] not in self.kinds:
            return None
        return self.kinds[words[0]].bare_forms.get(words[1])

    def answers_at_once(self, text: str) -> bool:
        """Whether handling ``text`` as a command changes no ritual's data: help, a usage
        error, or a command its kind says only reads. Such a command needs no storing before
        it is acknowledged, so an edge may answer it inside the acknowledgement."""
        parsed = self.grammar.parse(storable(text))
        if isinstance(parsed, c.Usage | c.Help):
            return True
        return parsed.reads_only and self.form_for(text) is None

    @property
    def form_commands(self) -> frozenset[str]:
        """Every command typed alone that opens a form, as ``word verb``."""
        return frozenset(
            f"{kind.word} {verb}" for kind in self.kinds.values() for verb in kind.bare_forms
        )

    @property
    def hooked(self) -> list[str]:
        """The kinds that answer webhooks, each at ``/hooks/<word>/{token}``."""
        return [word for word, kind in self.kinds.items() if kind.hooks and kind.ready]

    async def opens(self, word: str, token: str) -> bool:
        """Whether ``token`` opens a webhook of the kind named in its path."""
        return word in self.hooked and await self.kinds[word].opens(token)

    async def hook(self, word: str, token: str, payload: object) -> HookReply:
        """An inbound webhook for the kind named in its path: its body, as the edge read it."""
        if word not in self.hooked:
            return HookReply(404, {"error": "not found"})
        return await self.kinds[word].hook(token, payload)

    def parse(self, text: str) -> c.ParseResult:
        return self.grammar.parse(text)

    def _kind_of(self, name: str) -> Kind | None:
        """The kind a namespaced form or action id (``retro.vote``) belongs to."""
        return self.kinds.get(name.partition(".")[0])

    # --- events -----------------------------------------------------------------------

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
        as_answer: bool = False,
    ) -> Reply | None:
        """``as_answer``: the person said the line was their answer, whatever it reads as."""
        text = storable(text)
        parsed = self.grammar.parse(text)
        if always_command and isinstance(parsed, c.Command) and not isinstance(parsed, c.Help):
            await self.kinds[self.registry.word_of(type(parsed))].before(actor, place, parsed)
        async with self.rt.db.session() as session:
            if not await self._first_delivery(session, actor.platform, delivery_id):
                return None
            ctx = await self._context(session, actor, place)
            waiting: list[Waiting] = []
            if not always_command and not text.lstrip().startswith("/"):
                waiting = await self._waiting(ctx)
            reply, target = None, None
            word = text.strip().lower()
            if not always_command and word in PASS_WORDS:
                reply = await self._pass(ctx, waiting, stop=word == "cancel")
            elif as_answer or (
                not always_command
                and not means_command(self.grammar, text, parsed, waiting=bool(waiting))
            ):
                if not as_answer and self._ambiguous(waiting, text, parsed):
                    reply = Reply(command_or_answer(text))
                else:
                    reply = await self._answer(ctx, waiting, text, ref, parsed)
            if reply is None:
                reply = await self._dispatch(ctx, parsed)
                target = place
            if not (reply_inline and inline(reply)):
                await self._queue_reply(session, actor, target, reply)
        await self._after(ctx)
        return reply

    def _ambiguous(self, waiting: list[Waiting], text: str, parsed: c.ParseResult) -> bool:
        """A whole command typed while a question that takes any text waits: it may be
        either, so the person is asked rather than the line filed silently."""
        if not waiting or not isinstance(parsed, c.Command) or isinstance(parsed, c.Help):
            return False
        latest = max(waiting, key=lambda w: w.asked_at)
        return self.kinds[latest.kind].free_text_answers and len(text) <= MAX_CONFIRMED

    async def _pass(self, ctx: CommandContext, waiting: list[Waiting], *, stop: bool) -> Reply:
        """``skip`` or ``cancel`` typed alone, for the conversation asked in last."""
        ctx.channel = None
        if not waiting:
            return say("Nothing is waiting for your answer, so there is nothing to skip.")
        latest = max(waiting, key=lambda w: w.asked_at)
        return await self.kinds[latest.kind].skip(ctx, latest, stop=stop)

    async def _waiting(self, ctx: CommandContext, *kinds: str) -> list[Waiting]:
        """What each kind (of ``kinds``, or all) waits for this person to answer."""
        asked = [word for word in self.kinds if not kinds or word in kinds]
        maybe = await self._may_wait(ctx, asked)
        found = []
        for word in asked:
            if word not in maybe:
                continue
            waiting = await self.kinds[word].waiting(ctx.session, ctx.member, ctx.now)
            if waiting is not None:
                found.append(waiting)
        return found

    async def _may_wait(self, ctx: CommandContext, words: list[str]) -> set[str]:
        """Of ``words``, the kinds whose probes find something, with those that have none:
        one statement instead of one per kind, whatever the number of kinds."""
        probed = [word for word in words if word in self._probes]
        if len(probed) < 2:
            return set(words)
        values: dict[str, object] = {}
        for word in probed:
            values.update(self._probes[word].values(ctx.member.id, ctx.now))
        rows = await direct.rows(
            ctx.session,
            ("kinds waiting", tuple(probed)),
            lambda: _probing({word: self._probes[word] for word in probed}),
            values,
        )
        return {word for (word,) in rows} | {word for word in words if word not in self._probes}

    async def _answer(
        self,
        ctx: CommandContext,
        waiting: list[Waiting],
        text: str,
        ref: str | None,
        parsed: c.ParseResult,
    ) -> Reply | None:
        """File the answer under the conversation the person was asked in last; None when
        that kind says the line is no answer but a command. When that conversation is done
        and another kind still waits, its question is asked again so the next answer finds
        it."""
        if not waiting:
            ctx.channel = None
            if isinstance(parsed, c.Usage):
                return Reply(
                    NOTHING_ASKED.model_copy(
                        update={"context": f"As a command: {parsed.error}. Try: {parsed.example}"}
                    )
                )
            return Reply(NOTHING_ASKED)
        latest = max(waiting, key=lambda w: w.asked_at)
        channel, ctx.channel = ctx.channel, None
        reply = await self.kinds[latest.kind].answer(ctx, latest, text, ref)
        if reply is None:
            ctx.channel = channel
            return None
        others = [w for w in waiting if w.kind != latest.kind]
        if not others:
            return reply  # whatever the answered kind asks next, its reply says
        following = max(
            [*others, *await self._waiting(ctx, latest.kind)],
            key=lambda w: w.asked_at,
            default=None,
        )
        if following is None or following.kind == latest.kind:
            return reply
        again = await self.kinds[following.kind].ask_again(ctx, following)
        if again is None:
            return reply
        message = reply.message
        return Reply(
            message.model_copy(
                update={
                    "sections": [*message.sections, Section(text=again.text)],
                    "buttons": [*message.buttons, *again.buttons],
                    "context": again.context,
                }
            )
        )

    async def thread_reply(
        self,
        actor: Actor,
        place: Place,
        thread: str,
        text: str,
        *,
        ref: str | None = None,
        delivery_id: str | None = None,
    ) -> Reply | None:
        """A message in the thread of one of the bot's posts; None when no kind takes it
        (then it was just conversation, or, where the platform says so, a command)."""
        text = storable(text)
        async with self.rt.db.session() as session:
            if not await self._first_delivery(session, actor.platform, delivery_id):
                return None
            ctx = await self._context(session, actor, place)
            reply = None
            for kind in self.kinds.values():
                reply = await kind.replied(ctx, thread, text, ref)
                if reply is not None:
                    break
            if reply is None:
                await self._forget_delivery(session, actor.platform, delivery_id)
                return None
            await self._queue_reply(session, actor, place, reply)
        await self._after(ctx)
        return reply

    async def remind(self, actor: Actor) -> None:
        """Ask again, in private, the question a person was asked last and has not
        answered (a console that starts while one waits)."""
        async with self.rt.db.session() as session:
            ctx = await self._context(session, actor, None)
            waiting = await self._waiting(ctx)
            if not waiting:
                return
            latest = max(waiting, key=lambda w: w.asked_at)
            again = await self.kinds[latest.kind].ask_again(ctx, latest)
            if again is not None:
                await self._queue_reply(session, actor, None, Reply(again))
        self.rt.sent_later()

    async def introduce(
        self, platform: str, workspace: str, place: Place, *, delivery_id: str | None = None
    ) -> bool:
        """The bot was added to a channel: say once what it does and how to start there."""
        async with self.rt.db.session() as session:
            if not await self._first_delivery(session, platform, delivery_id):
                return False
            envelope = Envelope(platform, workspace, "post", channel=place.channel)
            await outbound.queue(session, envelope, self.welcome(), self.rt.clock.now())
        self.rt.sent_later()
        return True

    async def tell(self, actor: Actor, text: str) -> None:
        """A short private note from an edge to one person, sent like any other reply."""
        async with self.rt.db.session() as session:
            await self._queue_reply(session, actor, None, say(text))
        self.rt.sent_later()

    async def home(self, actor: Actor) -> Message:
        """What a person's own page shows, a part from each kind; read-only."""
        async with self.rt.db.session() as session:
            ctx = await self._context(session, actor, None)
            sections = [s for kind in self.kinds.values() for s in await kind.home(ctx)]
        name = ctx.member.name or ctx.member.external_id
        return Message(
            text=f"Hi {name} — your rituals",
            sections=sections,
            context=f"Times are yours ({ctx.member.tz}).",
        )

    async def open_form(
        self, actor: Actor, place: Place | None, form_id: str, value: str
    ) -> Form | Reply:
        """The form a button or a bare command asks for; a reply when it cannot be shown."""
        kind = self._kind_of(form_id)
        async with self.rt.db.session() as session:
            ctx = await self._context(session, actor, place)
            if kind is None or form_id not in kind.forms:
                found: Form | Message = Message(text="That form is not available here.")
            elif form_id in kind.channel_forms and ctx.channel is None:
                found = Message(text="Open that form from the channel it is for.")
            else:
                found = await kind.open_form(ctx, form_id, value)
            if isinstance(found, Form):
                return found
            reply = Reply(found)
            await self._queue_reply(session, actor, None, reply)
        self.rt.sent_later()
        return reply

    async def reopen_form(self, actor: Actor, form_id: str, context: str) -> Form | Reply:
        """A submitted form again (to show its errors): from the context it came back with."""
        kind = self._kind_of(form_id)
        if kind is not None and form_id in kind.channel_forms:
            return await self.open_form(actor, Place(context), form_id, "")
        return await self.open_form(actor, None, form_id, context)

    def form_belongs(self, form_id: str, context: str, here: Place | None) -> bool:
        """Whether a submission sent from ``here`` may act on the channel its form names;
        forms the client hands back (Teams cards) must come from that very channel."""
        kind = self._kind_of(form_id)
        if kind is None or form_id not in kind.channel_forms:
            return True
        return here is not None and here.channel == context

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
        values = {key: storable(value) for key, value in values.items()}
        kind = self._kind_of(form_id)
        if kind is None or form_id not in kind.forms:
            return {"": "Unknown form."}
        place = Place(context) if form_id in kind.channel_forms else None
        async with self.rt.db.session() as session:
            if not await self._first_delivery(session, actor.platform, delivery_id):
                return None
            ctx = await self._context(session, actor, place)
            result = await kind.submit_form(ctx, form_id, context, values)
            if isinstance(result, dict):
                await self._forget_delivery(session, actor.platform, delivery_id)
                return result
            await self._queue_reply(session, actor, place if result.public else None, result)
        await self._after(ctx)
        return result

    async def message_edited(
        self, actor: Actor, ref: str, text: str, *, delivery_id: str | None = None
    ) -> Reply | None:
        """A person edited a message they sent earlier: if it was an answer, update it."""
        text = storable(text)
        async with self.rt.db.session() as session:
            if not await self._first_delivery(session, actor.platform, delivery_id):
                return None
            ctx = await self._context(session, actor, None)
            message = None
            for kind in self.kinds.values():
                message = await kind.edited(ctx, ref, text)
                if message is not None:
                    break
            if message is None:
                return None
            reply = Reply(message)
            await self._queue_reply(session, actor, None, reply)
        await self._after(ctx)
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
        """A button press; the kind that owns the id decides what it means. The two answers
        to "command or answer?" are the router's own."""
        if action_id == RUN_COMMAND:
            return await self._handle(actor, place, value, delivery_id, always_command=True)
        if action_id == FILE_ANSWER:
            return await self._handle(actor, None, value, delivery_id, as_answer=True)
        kind = self._kind_of(action_id)
        if kind is None:
            log.warning("unknown action", action_id=action_id)
            return None
        async with self.rt.db.session() as session:
            if not await self._first_delivery(session, actor.platform, delivery_id):
                return None
            ctx = await self._context(session, actor, place)
            reply = await kind.press(ctx, action_id, value)
            if reply is None:
                log.warning("unknown action", action_id=action_id)
                return None
            await self._queue_reply(session, actor, place, reply)
        await self._after(ctx)
        return reply

    # --- plumbing ---------------------------------------------------------------------

    async def _after(self, ctx: CommandContext) -> None:
        """What a unit of work set in motion, once it has committed: follow-ups, job
        rebuilds, and delivery when anything was queued (a read answered in place queued
        nothing). Inside a batch that is when the batch commits."""
        for key, step in ctx.after.items():
            await self.rt.db.when_committed(step, key)
        for ritual_id in ctx.changed_rituals:
            self.rt.schedule_changed(ritual_id)
        if outbound.stored() != ctx.stored_before:
            self.rt.sent_later()

    async def _first_delivery(
        self, session: AsyncSession, platform: str, delivery_id: str | None
    ) -> bool:
        return await deliveries.first(session, platform, delivery_id, self.rt.clock.now())

    async def _forget_delivery(
        self, session: AsyncSession, platform: str, delivery_id: str | None
    ) -> None:
        """A form refused with field errors comes back under the same id once corrected."""
        await deliveries.forget(session, platform, delivery_id)

    async def _context(
        self, session: AsyncSession, actor: Actor, place: Place | None
    ) -> CommandContext:
        now = self.rt.clock.now()
        workspace, member, channel = await directory.resolve(
            session,
            self._seen,
            actor.platform,
            actor.workspace,
            (actor.user, storable(actor.name), actor.tz),
            (place.channel, storable(place.name)) if place is not None else None,
            now,
        )
        return CommandContext(
            session,
            actor,
            place,
            workspace,
            member,
            channel,
            now,
            secret_key=self.rt.secret_key,
            stored_before=outbound.stored(),
        )

    def welcome(self) -> Message:
        """What the bot says when it joins a channel: each ready kind in a line of its own."""
        ready = [k for k in self.kinds.values() if k.ready and k.intro]
        intros = [k.intro for k in ready]
        said = "; and ".join(["; ".join(intros[:-1]), intros[-1]]) if len(intros) > 1 else ""
        hints = [k.start_hint for k in ready if k.start_hint]
        return Message(
            text=f"Hi! I run this channel's rituals: {said or ''.join(intros)}.",
            context="Start with " + "; ".join([*hints, "`help` lists every command."]),
        )

    def help(self, topic: str) -> str:
        kind = self.kinds.get(topic)
        if kind is not None:
            return kind.help if kind.ready else f"(coming soon) {kind.help}"
        ready = [k for k in self.kinds.values() if k.ready]
        soon = [k for k in self.kinds.values() if not k.ready]
        text = "Commands: " + ", ".join(f"`{k.word} …` for {k.title}s" for k in ready)
        if soon:
            words = [f"`{k.word} …`" for k in soon]
            listed = ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]
            text += f"; {listed} {'are' if len(soon) > 1 else 'is'} coming soon"
        first = next(iter(self.kinds), "standup")
        return text + f". Type a word alone (e.g. `{first}`) for its commands."

    async def _dispatch(self, ctx: CommandContext, parsed: c.ParseResult) -> Reply:
        if isinstance(parsed, c.Usage):
            COMMANDS.labels(ctx.actor.platform, parsed.topic or "unknown", "usage").inc()
            return usage(parsed)
        if isinstance(parsed, c.Help):
            COMMANDS.labels(ctx.actor.platform, "help", "ok").inc()
            return say(self.help(parsed.topic))
        kind = self.kinds[self.registry.word_of(type(parsed))]
        reply = await kind.handle(ctx, parsed)
        COMMANDS.labels(
            ctx.actor.platform, kind.word, "ok" if kind.ready else "not_available"
        ).inc()
        return reply

    async def _queue_reply(
        self, session: AsyncSession, actor: Actor, place: Place | None, reply: Reply
    ) -> None:
        now = self.rt.clock.now()
        keep = reply.keep and not reply.message.secret
        if place is None:
            envelope = Envelope(
                actor.platform, actor.workspace, "direct", user=actor.user, keep=keep
            )
        elif reply.public and not reply.message.secret:
            envelope = Envelope(
                actor.platform, actor.workspace, "post", channel=place.channel, keep=keep
            )
        else:
            envelope = Envelope(
                actor.platform,
                actor.workspace,
                "ephemeral",
                channel=place.channel,
                user=actor.user,
                via=place.reply_to,
                keep=keep,
            )
        outbound.queue_at_commit(session, envelope, reply.message, now)


def _probing(probes: dict[str, Probe]) -> object:
    """One select naming each kind whose probe finds a row."""
    return union_all(
        *(
            select(literal(word, String).label("kind")).where(exists(probe.build()))
            for word, probe in probes.items()
        )
    )


__all__ = ["Message", "Rituals"]
