"""The seam: kinds register themselves, and the router reaches them only through it.

A small check-in kind defined here stands beside the real ones, so the router's choices
(which conversation a direct message answers, which kind a button belongs to) are pinned
without leaning on any one ritual's behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kinds import KINDS, registry
from rituals.commands import Command, Verb, Verbs
from rituals.commands import tokens as t
from rituals.context import CommandContext
from rituals.kinds import Handoff, Kind, Notice, Registry, Taken, Waiting
from rituals.messages import Message
from rituals.reply import Reply, say
from rituals.standup.kind import StandupKind
from storage.db import Database
from storage.models import Answer, Channel, Member
from storage.outbox import Envelope
from tests.helpers import CHANNEL, Team, person

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ALICE = person("alice", "UTC")


@dataclass(frozen=True)
class CheckinAsk(Command):
    pass


@dataclass
class CheckinLog:
    """What the check-in kind was told, kept outside it so the test can read it."""

    asked: dict[int, datetime] = field(default_factory=dict)
    answers: list[tuple[str, str]] = field(default_factory=list)
    pressed: list[str] = field(default_factory=list)
    taken: list[Handoff] = field(default_factory=list)
    asked_since: list[datetime | None] = field(default_factory=list)


LOG = CheckinLog()


class CheckinKind(Kind):
    """Asks the person who types `checkin ask` one private question."""

    word = "checkin"
    title = "check-in"
    verbs: ClassVar[Verbs] = {"ask": Verb(t.fixed(CheckinAsk), "checkin ask")}
    help = "checkin ask"
    forms = frozenset({"checkin.form"})
    takes = frozenset({"metric"})

    async def handle(self, ctx: CommandContext, command: Command) -> Reply:
        LOG.asked[ctx.member.id] = ctx.now
        return say("Check-in: how is the experiment going?")

    async def press(self, ctx: CommandContext, action_id: str, value: str) -> Reply | None:
        LOG.pressed.append(f"{action_id}={value}")
        return say("pressed") if action_id == "checkin.ok" else None

    async def replied(
        self, ctx: CommandContext, thread: str, text: str, ref: str | None
    ) -> Reply | None:
        if thread != "T-checkin":
            return None
        LOG.answers.append((ctx.member.external_id, f"thread: {text}"))
        return say("Noted from the thread.")

    async def waiting(self, session: AsyncSession, member: Member, now: datetime) -> Waiting | None:
        asked = LOG.asked.get(member.id)
        return None if asked is None else Waiting(self.word, asked, member.id)

    async def answer(
        self, ctx: CommandContext, waiting: Waiting, text: str, ref: str | None
    ) -> Reply:
        LOG.answers.append((ctx.member.external_id, text))
        del LOG.asked[waiting.handle]
        return say("Check-in noted.")

    async def ask_again(self, ctx: CommandContext, waiting: Waiting) -> Message | None:
        LOG.asked[waiting.handle] = ctx.now
        return Message(text="Check-in: how is the experiment going?")

    async def take(
        self,
        session: AsyncSession,
        channel: Channel,
        handoff: Handoff,
        now: datetime,
        by: Member | None,
    ) -> Taken | None:
        LOG.taken.append(handoff)
        return Taken(f"Logged {handoff.title} in #{channel.name}", ref="checkin:1")

    async def notices(
        self, session: AsyncSession, channel: Channel, since: datetime | None, now: datetime
    ) -> list[Notice]:
        LOG.asked_since.append(since)
        return [Notice("Check-ins overdue", ("ranker recall: 3 days late",))]


@pytest.fixture
def with_checkin() -> Registry:
    LOG.asked.clear()
    LOG.answers.clear()
    LOG.pressed.clear()
    LOG.taken.clear()
    LOG.asked_since.clear()
    return Registry([StandupKind, CheckinKind])


async def stored_answers(db: Database) -> list[str]:
    async with db.session() as session:
        return list((await session.execute(select(Answer.text).order_by(Answer.id))).scalars())


async def test_a_direct_message_answers_the_conversation_asked_last(
    db: Database, with_checkin: Registry
) -> None:
    team = Team(db, T0, with_checkin)
    await team.type(ALICE, "standup setup at 09:30 tz UTC")
    await team.type(ALICE, "standup now")  # asks stand-up question 1 now
    team.clock.set(T0 + timedelta(minutes=5))
    await team.type(ALICE, "checkin ask")  # a check-in asked after it

    first = await team.dm(ALICE, "on track, recall 0.81")

    assert LOG.answers == [("alice", "on track, recall 0.81")]
    assert await stored_answers(db) == []
    # The check-in is done, so the stand-up's question comes back, and takes the next answer.
    assert "Check-in noted." in first and "Stand-up for #ml-team — question 1 of 3" in first
    team.clock.set(T0 + timedelta(minutes=6))
    await team.dm(ALICE, "wrote the eval harness")
    assert await stored_answers(db) == ["wrote the eval harness"]
    assert LOG.answers == [("alice", "on track, recall 0.81")]


async def test_a_stand_up_asked_after_a_check_in_takes_the_next_answer(
    db: Database, with_checkin: Registry
) -> None:
    team = Team(db, T0, with_checkin)
    await team.type(ALICE, "checkin ask")
    team.clock.set(T0 + timedelta(minutes=5))
    await team.type(ALICE, "standup setup at 09:30 tz UTC")
    await team.type(ALICE, "standup now")

    reply = await team.dm(ALICE, "shipped the ranker")

    assert await stored_answers(db) == ["shipped the ranker"]
    assert LOG.answers == []
    assert "question 2 of 3" in reply


async def test_a_direct_message_asks_every_kind_with_a_probe_in_one_statement(
    db: Database,
) -> None:
    team = Team(db, T0)
    await team.type(ALICE, "standup setup at 09:30 tz UTC")
    await team.type(ALICE, "standup now")
    statements: list[str] = []

    def seen(_conn, _cursor, sql: str, *_args) -> None:
        statements.append(sql)

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        reply = await team.dm(ALICE, "wrote the eval harness")
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)

    assert "question 2 of 3" in reply
    probes = [sql for sql in statements if "retro_action" in sql or "hypothesis_ask" in sql]
    assert len(probes) == 1
    assert "retro_action" in probes[0] and "hypothesis_ask" in probes[0]
    assert "response" in probes[0]


async def test_buttons_and_forms_reach_only_the_kind_their_id_names(
    db: Database, with_checkin: Registry
) -> None:
    team = Team(db, T0, with_checkin)
    reply = await team.bot.action(ALICE, None, "checkin.ok", "7")
    assert reply is not None and reply.message.text == "pressed"
    assert await team.bot.action(ALICE, None, "elsewhere.ok", "7") is None
    assert await team.bot.action(ALICE, None, "checkin.unknown", "1") is None
    assert LOG.pressed == ["checkin.ok=7", "checkin.unknown=1"]
    assert await team.bot.submit_form(ALICE, "elsewhere.form", "", {}) == {"": "Unknown form."}
    assert team.bot.form_ids == {"standup.answers", "standup.setup", "checkin.form"}
    assert team.bot.form_for("/standup setup") == "standup.setup"
    assert team.bot.form_for("checkin ask") is None


async def test_help_lists_ready_kinds_and_those_still_coming(db: Database) -> None:
    team = Team(db, T0)
    text = await team.type(ALICE, "help")
    assert "`standup …` for stand-ups" in text
    for word, title in (("hypothesis", "hypothesis check-ins"), ("backlog", "backlogs")):
        assert f"`{word} …` for {title}" in text
    assert "`alerts …` for alerts" in text and "coming soon" not in text
    assert (await team.type(ALICE, "help backlog")).startswith("backlog add")
    later = Team(db, T0, Registry([StandupKind, type("Soon", (CheckinKind,), {"ready": False})]))
    assert "`checkin …` is coming soon" in await later.type(ALICE, "help")
    assert (await later.type(ALICE, "help checkin")).startswith("(coming soon) checkin ask")


async def test_a_thread_reply_goes_to_the_kind_whose_post_it_is_under(
    db: Database, with_checkin: Registry
) -> None:
    team = Team(db, T0, with_checkin)
    taken = await team.bot.thread_reply(ALICE, CHANNEL, "T-checkin", "all good", delivery_id="E1")
    assert taken is not None and taken.message.text == "Noted from the thread."
    assert LOG.answers == [("alice", "thread: all good")]
    assert (
        await team.bot.thread_reply(ALICE, CHANNEL, "T-checkin", "again", delivery_id="E1") is None
    )

    # Nobody's thread: nothing taken, and the delivery is free to be handled as a command.
    assert await team.bot.thread_reply(ALICE, CHANNEL, "T-other", "help", delivery_id="E2") is None
    assert await team.bot.command(ALICE, CHANNEL, "help", delivery_id="E2") is not None
    assert LOG.answers == [("alice", "thread: all good")]


async def test_other_kinds_lines_join_the_stand_up_summary_and_name_the_last_one(
    db: Database, with_checkin: Registry
) -> None:
    team = Team(db, T0, with_checkin)
    await team.type(ALICE, "standup setup at 09:00 tz UTC summary 10:00")
    for day in range(2):
        await team.at(T0 + timedelta(days=day, hours=1))
        await team.standups.prompt_due(1, "UTC")
        await team.at(T0 + timedelta(days=day, hours=2, minutes=1))
    summaries = [p for p in await team.deliver() if p.text.startswith("Stand-up #")]
    assert len(summaries) == 2
    assert all(
        "Check-ins overdue" in p.text and "ranker recall: 3 days late" in p.text for p in summaries
    )
    # The first summary covers everything; the second what came after the first.
    assert LOG.asked_since == [None, T0 + timedelta(hours=2, minutes=1)]


async def test_a_hand_off_reaches_the_kind_that_takes_it_and_no_other(
    db: Database, with_checkin: Registry
) -> None:
    team = Team(db, T0, with_checkin)
    await team.type(ALICE, "standup join")
    standup = team.bot.kinds["standup"]
    async with db.session() as session:
        channel = (await session.execute(select(Channel))).scalar_one()
        metric = Handoff("metric", "recall 0.81", source="alerts:7", label="alert #7")
        taken = await standup.peers.take(session, channel, metric, T0)
        assert await standup.peers.take(session, channel, Handoff("task", "x", "y"), T0) is None
    assert taken == Taken("Logged recall 0.81 in #ml-team", ref="checkin:1")
    assert LOG.taken == [metric]
    # A kind is never its own peer.
    assert team.bot.kinds["checkin"].peers.taker("metric") is None


def test_a_registry_refuses_two_kinds_with_one_word_and_unnamespaced_forms() -> None:
    class Clash(CheckinKind):
        pass

    class Sloppy(CheckinKind):
        word = "sloppy"
        forms = frozenset({"form"})

    with pytest.raises(ValueError, match="two kinds use the word 'checkin'"):
        Registry([CheckinKind, Clash])
    with pytest.raises(ValueError, match="not namespaced"):
        Registry([Sloppy])


def test_every_registered_kind_exports_its_kind_and_namespaces_its_forms() -> None:
    kinds = registry().kinds
    assert [f"rituals.{word}" for word in kinds] == list(KINDS)
    for kind in kinds.values():
        assert all(form.startswith(f"{kind.word}.") for form in kind.forms)
        assert kind.channel_forms <= kind.forms
        assert set(kind.bare_forms.values()) <= kind.forms


def test_outbox_lanes_follow_the_rules_handed_in() -> None:
    direct = Envelope("console", "local", "direct", user="dana")
    post = Envelope("console", "local", "post", channel="ml")
    assert direct.lane() != post.lane()
    assert direct.lane(frozenset({"console"})) == post.lane(frozenset({"console"}))
