"""Commands that only read: an edge answers them inside the platform's acknowledgement
without storing them first, so handling one must change nothing at all."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from rituals.commands import Command
from storage.db import Database
from storage.models import Base
from tests.helpers import CHANNEL, Team, person

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
ALICE = person("alice", "Europe/Berlin")
BOB = person("bob")
READS = [
    "standup status",
    "standup blockers",
    "retro actions",
    "backlog list",
    "backlog list data p1 mine",
    "backlog show 1",
    "hypothesis list",
    "hypothesis list all",
    "hypothesis show 1",
    "alerts list",
    "help",
    "standup",
    "standup sideways",
    "backlog show",
]
WRITES = [
    "standup join",
    "standup setup at 10:00",
    "standup setup",
    "backlog add data Fix labels",
    "retro add action Ship it",
    "hypothesis close 1 validated",
    "alerts mute ranker 1h",
]


def reads_only_commands() -> set[type[Command]]:
    found: set[type[Command]] = set()
    todo = list(Command.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.reads_only:
            found.add(cls)
    return found


async def everything(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    async with db.session() as session:
        return {
            table.name: sorted(
                (tuple(map(repr, row)) for row in await session.execute(select(table))),
            )
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
async def busy_channel(db: Database) -> Team:
    """A channel with something of every kind to read."""
    team = Team(db, T0)
    for actor, text in [
        (ALICE, "standup setup at 09:30"),
        (BOB, "standup join"),
        (ALICE, "standup now"),
        (ALICE, "retro start"),
        (ALICE, "retro add action Ship the eval set"),
        (ALICE, "backlog add data p1 Clean the labels"),
        (
            ALICE,
            "hypothesis add We believe dedup will result in fewer errors; "
            "we'll know when recall >= 0.8",
        ),
        (ALICE, "alerts rule add ranker recall < 0.7"),
    ]:
        await team.type(actor, text)
    await team.dm(BOB, "shipped the ranker")
    await team.deliver()
    return team


async def test_every_command_that_says_it_only_reads_changes_nothing(
    busy_channel: Team, db: Database
) -> None:
    team = busy_channel
    said = {type(team.bot.parse(text)) for text in READS}
    assert reads_only_commands() <= said, "each reads-only command needs an example here"
    before = await everything(db)
    for actor in (ALICE, BOB):
        for text in READS:
            reply = await team.bot.command(actor, CHANNEL, text, reply_inline=True)
            assert reply is not None and reply.message.text, text
    assert await everything(db) == before


def test_reads_and_usage_are_answered_at_once_and_changes_are_not(busy_channel: Team) -> None:
    bot = busy_channel.bot
    assert [t for t in READS if not bot.answers_at_once(f"/{t}")] == []
    assert [t for t in WRITES if bot.answers_at_once(f"/{t}")] == []
