"""The seam every ritual plugs into.

A ritual kind is one package under `rituals/` whose `KIND` class brings its command word and
verbs, its handlers, forms and buttons (ids namespaced ``<word>.<name>``), its help, its part of
a person's home page, its scheduled jobs and, when it asks people things in private, its
pending conversation. The router, the scheduler and the edges reach kinds only through the
`Registry` the composition root fills, so nothing outside a kind's package names it.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.commands import Command, Grammar, Verbs
from rituals.context import CommandContext
from rituals.identity import Actor, Place
from rituals.messages import Form, Message, Section
from rituals.reply import Reply, say
from rituals.runtime import Runtime
from rituals.schedule import Schedule
from storage.models import Channel, Member, Ritual


@dataclass(frozen=True)
class Waiting:
    """A question a kind asked a person in private and still waits for an answer to.

    ``asked_at`` orders conversations of different kinds: a direct message answers the one
    the person was asked in last. ``handle`` is the kind's own reference to it.
    """

    kind: str
    asked_at: datetime
    handle: Any = None


@dataclass(frozen=True)
class Probe:
    """Whether a kind may wait for a person's answer, asked of every kind in one statement.

    ``build`` makes, once, a select of the kind's rows that `Kind.waiting` would find,
    its bind parameters named after the kind (``standup_member``); ``values`` binds them
    for a member's id and a moment. When the select finds nothing, ``waiting`` is not asked.
    """

    build: Callable[[], Any]
    values: Callable[[int, datetime], dict[str, Any]]


@dataclass(frozen=True)
class Slot:
    """One scheduled job of one ritual: ``run(*args)`` at each time ``schedule`` names."""

    key: str
    schedule: Schedule
    run: Callable[..., Awaitable[object]]
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Sweep:
    """A job every kind may run on an interval: reminders, summaries, escalations."""

    name: str
    every: timedelta
    run: Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Handoff:
    """Work one kind hands to another in one step, without either naming the other.

    ``what`` is the capability asked for: ``task`` (a retro action item or an alert becomes a
    backlog item), ``postmortem`` (a resolved alert opens a retro), ``metric`` (a value
    arriving from monitoring lands on a hypothesis). ``source`` is the giver's own stable
    reference (``retro:12:item:5``), which the taker stores so the link can be followed back
    and a second hand-off of the same thing is recognised; ``label`` says it to people.
    """

    what: str
    title: str
    source: str
    label: str = ""
    owner_id: int | None = None
    category: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Taken:
    """What a taker made of a hand-off: a line for the person, and its own reference."""

    text: str
    ref: str = ""


@dataclass(frozen=True)
class Notice:
    """Lines one kind adds to another kind's channel summary (alerts still firing in the
    stand-up summary, hypotheses past their deadline)."""

    heading: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Recall:
    """What a question to a channel's history looks for: words, and the days it covers."""

    terms: tuple[str, ...]
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class Recalled:
    """One stored passage of a channel's history that matched: where and when it was said,
    by whom (None when anonymous), and how well it matched (higher is better)."""

    ritual: str
    day: date
    text: str
    who: str | None = None
    rank: float = 0.0


@dataclass(frozen=True)
class Week:
    """One kind's week in a channel, for a reader outside the team: a heading, plain lines
    that need no knowledge of the ritual, and the counts behind them. ``key`` names the part
    within a digest (the kind's word), so a written digest can cite where each point came
    from."""

    key: str
    heading: str
    lines: tuple[str, ...]
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class HookReply:
    """The answer to an inbound webhook call: an HTTP status and a JSON body."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


class Peers:
    """The other kinds of this deployment, reached by what they can do, never by name."""

    def __init__(self, kinds: Mapping[str, Kind]) -> None:
        self._kinds = kinds

    def taker(self, what: str) -> Kind | None:
        return next((k for k in self._kinds.values() if what in k.takes), None)

    async def take(
        self,
        session: AsyncSession,
        channel: Channel,
        handoff: Handoff,
        now: datetime,
        by: Member | None = None,
    ) -> Taken | None:
        """Hand ``handoff`` to whichever kind takes its ``what``; None when none does."""
        taker = self.taker(handoff.what)
        if taker is None:
            return None
        return await taker.take(session, channel, handoff, now, by)

    async def origin(self, session: AsyncSession, channel: Channel, source: str) -> str | None:
        """How a hand-off's ``source`` reads to people, said by the kind that gave it (the
        taker stores only the reference): None when no kind of ``channel`` knows it."""
        for kind in self._kinds.values():
            said = await kind.origin(session, channel, source)
            if said is not None:
                return said
        return None

    async def leads(self, session: AsyncSession, channel: Channel) -> list[int]:
        """Who leads the other kinds' rituals of ``channel`` (member ids, in the order the
        kinds were registered, each once): whom something nobody took goes to."""
        found: list[int] = []
        for kind in self._kinds.values():
            found.extend(m for m in await kind.leads(session, channel) if m not in found)
        return found

    async def notices(
        self, session: AsyncSession, channel: Channel, since: datetime | None, now: datetime
    ) -> list[Notice]:
        """Every kind's lines for a summary of ``channel`` covering ``since`` to ``now``."""
        found: list[Notice] = []
        for kind in self._kinds.values():
            found.extend(await kind.notices(session, channel, since, now))
        return found

    async def week(
        self, session: AsyncSession, channel: Channel, since: datetime, until: datetime
    ) -> list[Week]:
        """Every kind's week of ``channel`` from ``since`` up to ``until``, in the order the
        kinds were registered."""
        found: list[Week] = []
        for kind in self._kinds.values():
            found.extend(await kind.week(session, channel, since, until))
        return found

    async def recall(
        self, session: AsyncSession, channel: Channel, query: Recall, limit: int
    ) -> list[Recalled]:
        """The best ``limit`` passages of every kind's history of ``channel``."""
        found: list[Recalled] = []
        for kind in self._kinds.values():
            found.extend(await kind.recall(session, channel, query, limit))
        found.sort(key=lambda r: (-r.rank, -r.day.toordinal()))
        return found[:limit]


class Kind:
    """Base of every ritual kind; a kind overrides what it has, the defaults have nothing.

    ``ready`` False means the grammar understands the kind's words but it is not built yet:
    its commands answer that it is coming.
    """

    word: ClassVar[str]
    title: ClassVar[str]
    verbs: ClassVar[Verbs]
    help: ClassVar[str]
    ready: ClassVar[bool] = True
    # How the bot introduces the kind when it joins a channel, and how to begin with it.
    intro: ClassVar[str] = ""
    start_hint: ClassVar[str] = ""
    # Whether any text may answer this kind's private questions; when not (a retro
    # reminder takes `done` or `still open`), a command typed meanwhile simply runs.
    free_text_answers: ClassVar[bool] = True
    forms: ClassVar[frozenset[str]] = frozenset()
    # Forms whose context is the channel they belong to: a submission from a client that
    # names another channel than the one it was sent in is refused.
    channel_forms: ClassVar[frozenset[str]] = frozenset()
    # A verb typed alone that opens a form instead (``standup setup``).
    bare_forms: ClassVar[Mapping[str, str]] = {}
    # The hand-offs (`Handoff.what`) this kind takes from others.
    takes: ClassVar[frozenset[str]] = frozenset()
    # Whether the kind answers webhooks at ``/hooks/<word>/{token}`` (`opens`, `hook`); the
    # edge that mounts them reads each body with the reader the composition root gives it.
    hooks: ClassVar[bool] = False

    def __init__(self, runtime: Runtime, grammar: Grammar) -> None:
        self.rt = runtime
        self.grammar = grammar
        self.peers = Peers({})

    # --- commands, forms and buttons --------------------------------------------------

    async def before(self, actor: Actor, place: Place | None, command: Command) -> None:
        """Platform work a command needs done before its unit of work opens (no network call
        happens inside one): a channel's roster, for one."""

    async def handle(self, ctx: CommandContext, command: Command) -> Reply:
        return say(
            f"`{self.word}` commands are understood but not available yet in this version.",
            context="Type `help` for what is ready.",
        )

    async def open_form(self, ctx: CommandContext, form_id: str, value: str) -> Form | Message:
        return Message(text="That form is not available here.")

    async def submit_form(
        self, ctx: CommandContext, form_id: str, context: str, values: dict[str, str]
    ) -> Reply | dict[str, str]:
        """The reply, or errors by field; a kind checks everything before it writes."""
        return {"": "Unknown form."}

    async def press(self, ctx: CommandContext, action_id: str, value: str) -> Reply | None:
        """A button; None when the kind does not know it."""
        return None

    async def home(self, ctx: CommandContext) -> list[Section]:
        """This kind's part of a person's own page."""
        return []

    async def replied(
        self, ctx: CommandContext, thread: str, text: str, ref: str | None
    ) -> Reply | None:
        """A message in the thread under a post of the bot's (``thread`` is that post's
        platform ref); a reply if the post is this kind's and the message is for it."""
        return None

    # --- what kinds give each other ------------------------------------------------------

    async def take(
        self,
        session: AsyncSession,
        channel: Channel,
        handoff: Handoff,
        now: datetime,
        by: Member | None,
    ) -> Taken | None:
        """Make something of another kind's hand-off, inside the giver's unit of work; the
        same ``source`` handed twice gives back what the first made."""
        return None

    async def origin(self, session: AsyncSession, channel: Channel, source: str) -> str | None:
        """How ``source``, a reference this kind gave in a hand-off (`Handoff.source`), reads
        to people now (``action A1 of the retro “Sprint 14”``); None when it is not one of
        this kind's, or not of ``channel``."""
        return None

    async def notices(
        self, session: AsyncSession, channel: Channel, since: datetime | None, now: datetime
    ) -> list[Notice]:
        """What this kind adds to another kind's summary of ``channel``: what is still open,
        and what happened since ``since``."""
        return []

    async def recall(
        self, session: AsyncSession, channel: Channel, query: Recall, limit: int
    ) -> list[Recalled]:
        """Passages of this kind's stored history of ``channel`` (never another channel's)
        that match ``query``, best first: what `ask` answers from."""
        return []

    async def week(
        self, session: AsyncSession, channel: Channel, since: datetime, until: datetime
    ) -> list[Week]:
        """What this kind did in ``channel`` from ``since`` up to ``until``, for a weekly
        digest: nothing when the kind is not used there."""
        return []

    async def opens(self, token: str) -> bool:
        """Whether ``token`` opens one of this kind's webhooks: asked before a request's
        body is read, so an unknown token costs one indexed lookup and nothing more."""
        return False

    async def leads(self, session: AsyncSession, channel: Channel) -> list[int]:
        """Who leads this kind's ritual of ``channel``: its lead, when it has one (every
        kind keeps its ritual as a `Ritual` row of its word)."""
        lead = await session.scalar(
            select(Ritual.lead_member_id).where(
                Ritual.channel_id == channel.id,
                Ritual.kind == self.word,
                Ritual.lead_member_id.is_not(None),
            )
        )
        return [lead] if lead is not None else []

    async def hook(self, token: str, payload: Any) -> HookReply:
        """An inbound webhook call for this kind (``/hooks/<word>/{token}``): its body as the
        edge's reader for the word turned it into the kind's own neutral input, already
        validated (a body it could not read never gets here)."""
        return HookReply(404, {"error": "not found"})

    # --- private conversation ---------------------------------------------------------

    async def waiting(self, session: AsyncSession, member: Member, now: datetime) -> Waiting | None:
        """The question this kind waits for this person to answer, if any (locked while
        the answer is recorded, where the database can)."""
        return None

    def waiting_probe(self) -> Probe | None:
        """How to tell cheaply that ``waiting`` would find nothing: every direct message asks
        all kinds, in one statement for those that give a probe. None: always ask."""
        return None

    async def answer(
        self, ctx: CommandContext, waiting: Waiting, text: str, ref: str | None
    ) -> Reply | None:
        """File ``text`` as the answer; None when it is no answer to this question but a
        command the person typed (the router then runs it)."""
        raise NotImplementedError

    async def skip(self, ctx: CommandContext, waiting: Waiting, *, stop: bool) -> Reply:
        """``skip`` typed alone passes the rest of what was asked; ``cancel`` (``stop``)
        ends the conversation for the person."""
        return say("There is nothing here to skip.")

    async def ask_again(self, ctx: CommandContext, waiting: Waiting) -> Message | None:
        """The waiting question once more, when another kind's conversation just ended."""
        return None

    async def edited(self, ctx: CommandContext, ref: str, text: str) -> Message | None:
        """A person edited a message they sent; a reply if it was one of this kind's answers."""
        return None

    # --- schedule ---------------------------------------------------------------------

    async def catch_up(self) -> int:
        """At start: run what came due while no process was up, within the grace period."""
        return 0

    def sweeps(self) -> list[Sweep]:
        return []

    async def refresh(self, ritual_id: int | None = None) -> None:
        """Bring rituals (one, or all with None) in step with the platform before their jobs
        are rebuilt: a channel's roster, for one."""

    async def versions(
        self, session: AsyncSession, ritual_ids: Collection[int] | None = None
    ) -> dict[int, Hashable]:
        """This kind's rituals (those of ``ritual_ids``, or all), each with what its jobs
        depend on: a change means a rebuild."""
        return {}

    async def slots(self, ritual_id: int) -> list[Slot]:
        """The jobs of one ritual of this kind."""
        return []


class Registry:
    """The kinds this deployment runs, filled by the composition root."""

    def __init__(self, kinds: Iterable[type[Kind]]) -> None:
        self.kinds: dict[str, type[Kind]] = {}
        self.grammar = Grammar()
        self._packages: dict[str, str] = {}
        for kind in kinds:
            if kind.word in self.kinds:
                raise ValueError(f"two kinds use the word {kind.word!r}")
            for form_id in kind.forms:
                if not form_id.startswith(f"{kind.word}."):
                    raise ValueError(f"form {form_id!r} of {kind.word!r} is not namespaced")
            self.kinds[kind.word] = kind
            self.grammar.add(kind.word, kind.verbs)
            self._packages[_package(kind)] = kind.word

    @classmethod
    def of(cls, packages: Iterable[str]) -> Registry:
        """Kinds named by their packages (``rituals.retro``), each exporting ``KIND``."""
        return cls(importlib.import_module(name).KIND for name in packages)

    def word_of(self, command: type[Command]) -> str:
        """The kind a command belongs to: the one whose package defines it."""
        return self._packages[_package(command)]

    def bind(self, runtime: Runtime) -> dict[str, Kind]:
        bound = {word: kind(runtime, self.grammar) for word, kind in self.kinds.items()}
        for word, kind in bound.items():
            kind.peers = Peers({w: k for w, k in bound.items() if w != word})
        return bound


def _package(cls: type) -> str:
    """``rituals.retro`` for anything defined in ``rituals/retro/``."""
    return ".".join(cls.__module__.split(".")[:2])
