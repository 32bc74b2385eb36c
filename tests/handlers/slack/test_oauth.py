"""Multi-workspace install: OAuth against the fake Slack, tokens kept apart per workspace."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.oauth.installation_store import Bot
from sqlalchemy import func, select

from bot.kinds import registry
from bot.web import init_app
from handlers.journal import Journal
from handlers.slack.installations import DatabaseInstallationStore
from handlers.slack.setup import multi_workspace
from rituals.clock import FakeClock
from rituals.router import Rituals
from rituals.runtime import Runtime
from storage.db import Database
from storage.models import Channel, JournalEntry, Ritual, SlackInstallation, Workspace
from tests.handlers.slack import signing
from tests.handlers.slack.fake_slack import FakeSlack
from tests.handlers.slack.harness import FORM, MONDAY_0800, Installer


async def test_a_workspace_installs_and_then_uses_its_own_token(installer: Installer) -> None:
    state, cookie = await installer.start()
    assert await installer.finish("c-team2", state, cookie) == 200
    async with installer.db.session() as session:
        row = (await session.execute(select(SlackInstallation))).scalar_one()
    assert (row.team_id, row.bot_token) == ("T2", "xoxb-t2")

    body = signing.slash("/standup", "setup at 09:30", user="UCARA", team="T2")
    response = await installer.http.post(
        "/slack/events", data=body, headers=signing.headers(body, FORM)
    )
    assert response.status == 200
    await installer.delivery.drain()
    [post] = [c for c in installer.slack.calls if c.method == "chat.postMessage"]
    assert post.token == "xoxb-t2"
    async with installer.db.session() as session:
        teams = (
            await session.execute(
                select(Workspace.external_id)
                .join(Channel, Channel.workspace_id == Workspace.id)
                .join(Ritual, Ritual.channel_id == Channel.id)
            )
        ).all()
    assert teams == [("T2",)]


async def test_a_state_is_good_once_and_a_forged_one_never(installer: Installer) -> None:
    state, cookie = await installer.start()
    assert await installer.finish("c-team2", "forged-state", cookie) != 200
    assert await installer.finish("c-team2", state, cookie) == 200
    assert await installer.finish("c-team2", state, cookie) != 200
    async with installer.db.session() as session:
        assert len((await session.execute(select(SlackInstallation))).all()) == 1


async def test_a_workspace_that_never_installed_changes_nothing(installer: Installer) -> None:
    assert installer.slack.server is not None
    respond = str(installer.slack.server.make_url("/respond"))
    body = signing.slash(
        "/standup", "setup at 09:30", user="UCARA", team="T9", response_url=respond
    )
    response = await installer.http.post(
        "/slack/events", data=body, headers=signing.headers(body, FORM)
    )
    assert response.status == 200
    [told] = installer.slack.called("response_url")
    assert "install" in told["text"].lower()
    async with installer.db.session() as session:
        assert (await session.execute(select(Ritual))).all() == []


async def test_oauth_stored_command_whose_authorization_failed_is_retried(db: Database) -> None:
    slack = FakeSlack(team="T2")
    slack.add_user("UCARA", "Cara", "Asia/Tokyo")
    api = await slack.start()
    clock = FakeClock(MONDAY_0800)
    rituals = Rituals(Runtime(db=db, clock=clock), registry())
    journal = Journal(db, clock)
    edge, _port = multi_workspace(
        rituals,
        client_id="cid",
        client_secret="csecret",
        signing_secret=signing.SECRET,
        api_url=api,
        public_url="https://bot.example.org",
        journal=journal,
    )
    await DatabaseInstallationStore(db).async_save_bot(
        Bot(
            app_id="A1",
            team_id="T2",
            team_name="Second",
            bot_token="xoxb-t2",
            bot_id="B2",
            bot_user_id="UBOT2",
            bot_scopes="chat:write,commands",
            installed_at=1_700_000_000.0,
        )
    )
    slack.fail("auth.test", 429, retry_after=1)
    server = TestServer(init_app(db=db, extra_routes=edge.routes), host="127.0.0.1")
    try:
        async with TestClient(server) as http:
            body = signing.slash(
                "/standup", "join", user="UCARA", team="T2", response_url=slack.respond_url
            )
            response = await http.post(
                "/slack/events", data=body, headers=signing.headers(body, FORM)
            )
            assert response.status == 200
            await journal.drain()
            # The command was acknowledged but not handled: it must still be in the journal.
            assert await _journal_rows(db) == 1
    finally:
        await slack.close()


async def _journal_rows(db: Database) -> int:
    async with db.session() as session:
        return (await session.execute(select(func.count(JournalEntry.id)))).scalar_one()
