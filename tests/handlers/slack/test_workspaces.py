"""Whose requests are served: with one bot token only its own workspace's (and, on Enterprise
Grid, its organisation's when installed org-wide); with OAuth each workspace acts only through
its own installation."""

from __future__ import annotations

import pytest
from slack_sdk.oauth.installation_store import Bot
from sqlalchemy import select

from handlers.slack.installations import DatabaseInstallationStore
from storage.db import Database
from storage.models import Ritual, Workspace
from tests.handlers.slack import signing
from tests.handlers.slack.fake_slack import FakeSlack
from tests.handlers.slack.harness import FORM, JSON, Installer, SlackTeam, running
from tests.handlers.slack.test_events import count


def other_teams_requests(team: str = "T2", enterprise: str | None = None) -> list[tuple[str, str]]:
    """What another workspace's people could send: a command, an answer, a button press."""
    return [
        (
            signing.slash(
                "/standup", "setup at 09:30", user="UMALLORY", team=team, enterprise=enterprise
            ),
            FORM,
        ),
        (
            signing.event(
                signing.dm("UMALLORY", "<!channel> click evil.example", ts="1.1"),
                event_id="EvOther",
                team=team,
                enterprise=enterprise,
            ),
            JSON,
        ),
        (signing.button("standup.resolve#0", "1", user="UMALLORY", team=team), FORM),
    ]


async def test_another_teams_signed_requests_are_refused_and_change_nothing(
    slack_team: SlackTeam,
) -> None:
    await slack_team.start_standup()
    await slack_team.deliver()
    calls_before = len(slack_team.calls_to_slack())
    for body, content_type in other_teams_requests():
        assert await slack_team.post(body, content_type) == 403
    await slack_team.deliver()
    assert await slack_team.stored() == 0
    assert len(slack_team.calls_to_slack()) == calls_before
    async with slack_team.db.session() as session:
        teams = list((await session.execute(select(Workspace.external_id))).scalars())
    assert teams == ["T1"]


async def test_the_tokens_workspace_is_learned_once_at_start_up(slack_team: SlackTeam) -> None:
    for user in ("UALICE", "UBOB", "UALICE"):
        assert await slack_team.command(user, "status") == 200
    assert len(slack_team.slack.called("auth.test")) <= 2  # ours at start-up, and bolt's


async def test_when_slack_could_not_say_at_start_up_the_door_asks_and_then_serves(
    db: Database,
) -> None:
    slack = FakeSlack()
    slack.fail("auth.test", 500)
    async with running(db, slack) as team:
        assert await team.command("UALICE", "setup at 09:30") == 200
        assert await count(db, Ritual) == 1
        assert await team.post(other_teams_requests()[0][0], FORM) == 403


@pytest.mark.parametrize(
    ("org_wide", "team", "status"),
    [
        (False, "T1", 200),
        (False, "T7", 403),
        (True, "T7", 200),
    ],
    ids=["own-workspace", "sibling-workspace", "sibling-workspace-org-wide-install"],
)
async def test_on_enterprise_grid_the_organisation_is_served_only_when_installed_org_wide(
    db: Database, org_wide: bool, team: str, status: int
) -> None:
    slack = FakeSlack(enterprise="E1", org_wide=org_wide)
    async with running(db, slack) as grid:
        body = signing.slash("/standup", "status", user="UALICE", team=team, enterprise="E1")
        assert await grid.post(body, FORM) == status
        foreign = signing.slash("/standup", "status", user="UALICE", team="T1", enterprise="E9")
        assert await grid.post(foreign, FORM) == 403


async def test_each_installed_workspace_acts_only_with_its_own_token(
    installer: Installer,
) -> None:
    store = DatabaseInstallationStore(installer.db)
    for team in ("T2", "T3"):
        await store.async_save_bot(
            Bot(
                app_id="A1",
                team_id=team,
                team_name=team,
                bot_token=f"xoxb-{team.lower()}",
                bot_id=f"B{team}",
                bot_user_id=f"UBOT{team}",
                bot_scopes="chat:write,commands",
                installed_at=1_700_000_000.0,
            )
        )
    for team, user in (("T2", "UCARA"), ("T3", "UDAN")):
        body = signing.slash("/standup", "setup at 09:30", user=user, team=team, channel=f"C{team}")
        response = await installer.http.post(
            "/slack/events", data=body, headers=signing.headers(body, FORM)
        )
        assert response.status == 200
    await installer.delivery.drain()
    used = {
        (c.args.get("channel") or c.args.get("user"), c.token)
        for c in installer.slack.calls
        if c.method in ("chat.postMessage", "users.info")
    }
    assert used == {
        ("CT2", "xoxb-t2"),
        ("UCARA", "xoxb-t2"),
        ("CT3", "xoxb-t3"),
        ("UDAN", "xoxb-t3"),
    }
