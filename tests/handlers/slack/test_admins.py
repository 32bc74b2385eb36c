"""Slack says who administers a workspace: its admins and owners may change any stand-up."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Ritual
from tests.handlers.slack.harness import SlackTeam


async def paused(team: SlackTeam) -> bool:
    async with team.db.session() as session:
        return (await session.execute(select(Ritual.paused))).scalar_one()


async def test_a_workspace_admin_may_change_a_stand_up_a_member_may_not(
    slack_team: SlackTeam,
) -> None:
    team, slack = slack_team, slack_team.slack
    slack.add_user("UADMIN", "Ada", "UTC", is_admin=True)
    slack.add_user("UMEMBER", "Max", "UTC")
    await team.command("UALICE", "setup at 09:30")

    await team.command("UMEMBER", "pause")
    assert not await paused(team)
    await team.deliver()
    assert any("Only Alice" in text for text in team.private_replies()), team.private_replies()

    await team.command("UADMIN", "pause")
    assert await paused(team)
