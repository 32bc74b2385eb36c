"""The front door: redeliveries change nothing twice, bad input changes nothing at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from rituals.commands import Command, Verb, Verbs
from rituals.commands import tokens as t
from rituals.identity import Actor
from rituals.kinds import Kind, Registry
from rituals.standup import settings as cfg
from rituals.standup.kind import StandupKind
from storage.db import Database
from storage.models import Answer, InboundEvent, OutboxMessage, Participant, Ritual
from tests.helpers import CHANNEL, Team, person

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ALICE = person("alice", "Europe/Berlin")
BOB = person("bob", "America/New_York")


async def counts(db: Database) -> tuple[int, ...]:
    async with db.session() as session:
        return tuple(
            [
                (await session.execute(select(func.count()).select_from(model))).scalar_one()
                for model in (Ritual, Participant, Answer, OutboxMessage)
            ]
        )


async def test_a_redelivered_command_changes_nothing_twice(db: Database) -> None:
    team = Team(db, T0)
    first = await team.bot.command(ALICE, CHANNEL, "standup setup at 09:30", delivery_id="Ev1")
    before = await counts(db)
    for _ in range(2):
        assert (
            await team.bot.command(ALICE, CHANNEL, "standup setup at 10:00", delivery_id="Ev1")
            is None
        )
    assert first is not None and await counts(db) == before
    async with db.session() as session:
        ritual = (await session.execute(select(Ritual))).scalar_one()
        assert cfg.of(ritual).at == "09:30"
        assert (
            await session.execute(select(func.count()).select_from(InboundEvent))
        ).scalar_one() == 1


async def test_a_redelivered_answer_is_stored_once(db: Database) -> None:
    team = Team(db, T0)
    await team.type(ALICE, "standup setup at 09:30")
    await team.type(BOB, "standup join")
    await team.type(ALICE, "standup now")
    for _ in range(3):
        await team.bot.direct_message(BOB, "my answer", ref="m1", delivery_id="Ev2")
    async with db.session() as session:
        assert (await session.execute(select(func.count()).select_from(Answer))).scalar_one() == 1


async def test_the_same_delivery_id_on_another_platform_is_a_different_event(db: Database) -> None:
    team = Team(db, T0)
    other = Actor("other", "W9", "carol", "Carol", "UTC")
    assert await team.bot.command(ALICE, CHANNEL, "help", delivery_id="same") is not None
    assert await team.bot.command(other, CHANNEL, "help", delivery_id="same") is not None


@dataclass(frozen=True)
class DrillRun(Command):
    pass


class Drills(Kind):
    """A kind whose words are understood but which is not built yet."""

    word = "drill"
    title = "drill"
    ready = False
    help = "drill run"
    verbs: ClassVar[Verbs] = {"run": Verb(t.fixed(DrillRun), "drill run")}


async def test_unknown_and_unbuilt_commands_get_help_and_change_nothing(db: Database) -> None:
    team = Team(db, T0, Registry([StandupKind, Drills]))
    await team.type(ALICE, "standup setup at 09:30")
    before = await counts(db)
    assert "not available yet" in await team.type(ALICE, "drill run")
    reply = await team.type(ALICE, "standup setup at 9:75")
    assert "Sorry" in reply and "Try: standup setup" in reply
    assert "Sorry" in await team.type(ALICE, "dance")
    after = await counts(db)
    assert after[:3] == before[:3] and after[3] == before[3] + 3  # only the three replies


async def test_workspaces_do_not_see_each_others_blockers(db: Database) -> None:
    team = Team(db, T0)
    await team.type(ALICE, "standup setup at 09:30")
    await team.type(BOB, "standup join")
    await team.type(ALICE, "standup now")
    for text in ("a", "b", "stuck on auth"):
        await team.dm(ALICE, text)
    intruder = Actor("test", "W2", "alice", "Alice", "UTC")
    reply = await team.bot.command(intruder, CHANNEL, "standup resolve 1")
    assert "no blocker #1" in reply.message.text
    assert "stuck on auth" in await team.type(ALICE, "standup blockers")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.builds(
            lambda word, rest: f"standup {word} {rest}",
            st.sampled_from(["setup", "skip", "resolve", "away", "report", "export", "edit", "x"]),
            st.text(max_size=60),
        ),
    )
)
async def test_hostile_commands_never_raise_and_always_get_an_answer(
    sqlite_db: Database, text: str
) -> None:
    team = Team(sqlite_db, T0)
    reply = await team.bot.command(ALICE, CHANNEL, text)
    assert reply is not None and reply.message.text


async def test_delivery_is_woken_only_when_a_request_queued_something(db: Database) -> None:
    team = Team(db, T0)
    wakes: list[int] = []
    team.runtime.sent_later = lambda: wakes.append(1)
    await team.type(ALICE, "standup setup at 09:30")
    assert wakes == [1]  # its confirmation waits in the outbox
    wakes.clear()
    answered = await team.bot.command(ALICE, CHANNEL, "standup status", reply_inline=True)
    assert answered is not None and "Participants" in answered.message.plain_text()
    assert wakes == []  # answered in place: nothing for delivery to send
    await team.type(ALICE, "standup status")
    assert wakes == [1]
