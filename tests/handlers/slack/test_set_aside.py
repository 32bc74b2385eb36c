"""A stored Slack request whose handling can never succeed is set aside at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rituals.commands import Command, Verb, Verbs
from rituals.commands import tokens as t
from rituals.context import CommandContext
from rituals.kinds import Kind, Registry
from rituals.reply import Reply
from rituals.standup.kind import StandupKind
from storage import journal
from storage.db import Database
from tests.handlers.slack import signing
from tests.handlers.slack.harness import FORM, running


@dataclass(frozen=True)
class Trip(Command):
    pass


class FaultyKind(Kind):
    """A kind whose one command fails the way a request at fault does, every time."""

    word = "faulty"
    title = "fault"
    verbs: ClassVar[Verbs] = {"trip": Verb(t.fixed(Trip), "faulty trip")}
    help = "faulty trip"
    tries = 0

    async def handle(self, ctx: CommandContext, command: Command) -> Reply:
        FaultyKind.tries += 1
        raise ValueError("this request can never be handled")


async def test_a_request_that_always_fails_is_set_aside_on_its_first_try(db: Database) -> None:
    FaultyKind.tries = 0
    async with running(db, kinds=Registry([StandupKind, FaultyKind])) as team:
        body = signing.slash("/faulty", "trip", user="UALICE", trigger_id="9.1")
        assert await team.post(body, FORM) == 200
        await team.command("UALICE", "setup at 09:30")  # the same person's next request

        async with db.session() as session:
            letters = await journal.dead_letters(session)
            assert await journal.pending(session) == 0
        assert FaultyKind.tries == 1
        assert [(d.delivery_id, d.reason) for d in letters] == [
            ("command:9.1", "ValueError: this request can never be handled")
        ]
        await team.deliver()
        assert any("is set up" in p.get("text", "") for p in team.slack.posts())
