"""The webhook URL is a secret: on Slack and Teams it reaches the person privately or not
at all, never the channel, whatever private route fails; the outbox keeps no copy."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from storage.db import Database
from storage.models import OutboxMessage
from tests.handlers.slack.harness import running as slack_running
from tests.handlers.teams import activities as act
from tests.handlers.teams.harness import running as teams_running

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
