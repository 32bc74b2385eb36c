"""The webhook URL is a secret: on Slack and Teams it reaches the person privately or not
at all, never the channel, whatever private route fails; the outbox keeps no copy."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import select

from rituals.commands import Command, Verb, Verbs
from rituals.commands import tokens as t
from rituals.context import CommandContext
from rituals.kinds import Kind, Registry
from rituals.messages import Message
from rituals.reply import Reply
from storage.db import Database
from storage.models import OutboxMessage
from tests.handlers.slack.harness import running as slack_running
from tests.handlers.teams import activities as act
from tests.handlers.teams.harness import running as teams_running
from tests.helpers import CHANNEL, Team
from tests.rituals.alerts.support import ANA, MONDAY

TOKEN = re.compile(r"/hooks/alerts/([A-Za-z0-9_\-]+)")


async def _outbox(db: Database) -> list[OutboxMessage]:
    async with db.session() as session:
        return list((await session.execute(select(OutboxMessage))).scalars())


async def test_on_teams_without_a_private_chat_the_url_is_withheld(db: Database) -> None:
    async with teams_running(db) as teams:
        await teams.post(act.bot_added_to_team(teams.service_url))
        teams.connector.fail("create", 403)  # the app is not installed for Alice
        assert await teams.channel("29:alice", "alerts connect") == 200
        await teams.deliver()
        sends = teams.connector.of("send")
        assert not [c for c in sends if "/hooks/alerts/" in json.dumps(c.body)]
        (told,) = [c for c in sends if "ritualbot alerts connect" in c.text]
        assert told.conversation.startswith(act.CHANNEL) and told.reply_to
        assert "--platform teams" in told.text
        # Given up for good, and not kept.
        assert [m for m in await _outbox(db) if m.status != "sent"] == []


async def test_on_teams_with_a_private_chat_the_url_goes_there(db: Database) -> None:
    async with teams_running(db) as teams:
        await teams.post(act.bot_added_to_team(teams.service_url))
        assert await teams.channel("29:alice", "alerts connect") == 200
        await teams.deliver()
        (said,) = [c for c in teams.connector.of("send") if "/hooks/alerts/" in c.text]
        assert said.conversation == "a:1on1-29:alice"
        assert not [c for c in teams.connector.of("send") if "ritualbot alerts" in c.text]


async def test_on_slack_an_expired_response_url_falls_back_to_a_private_line(
    db: Database,
) -> None:
    async with slack_running(db) as team:
        team.slack.fail("response_url", 404)
        assert await team.command("UALICE", "connect", "/alerts") == 200
        await team.deliver()
        (private,) = team.slack.called("chat.postEphemeral")
        assert TOKEN.search(private["text"]) and private["user"] == "UALICE"
        assert not [p for p in team.slack.posts() if "/hooks/alerts/" in json.dumps(p)]


@dataclass(frozen=True)
class VaultShow(Command):
    pass


class VaultKind(Kind):
    """Answers with a secret, and asks (wrongly) for it to be public."""

    word = "vault"
    title = "vault"
    verbs: ClassVar[Verbs] = {"show": Verb(t.fixed(VaultShow), "vault show")}
    help = "vault show"

    async def handle(self, ctx: CommandContext, command: Command) -> Reply:
        return Reply(Message(text="key: s3cret", secret="Ask the operator."), public=True)


async def test_a_secret_reply_is_never_public_and_never_kept(db: Database) -> None:
    team = Team(db, MONDAY, Registry([VaultKind]))
    for place in (CHANNEL, None):
        await team.bot.command(ANA, place, "vault show")
    rows = await _outbox(db)
    assert [(r.op, r.keep) for r in rows] == [("ephemeral", False), ("direct", False)]
    assert [p.op for p in await team.deliver()] == ["ephemeral", "direct"]
    assert await _outbox(db) == []
