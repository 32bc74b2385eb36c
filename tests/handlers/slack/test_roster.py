"""A Slack stand-up follows its channel: human members are asked, bots and the away are not."""

from __future__ import annotations

import time

from sqlalchemy import select

from storage.models import Member, Participant
from tests.handlers.slack.harness import SlackTeam


async def participants(team: SlackTeam) -> list[str]:
    async with team.db.session() as session:
        rows = await session.execute(
            select(Member.external_id).join(Participant, Participant.member_id == Member.id)
        )
        return sorted(rows.scalars())


async def test_the_channels_humans_become_participants_and_leavers_stay_out(
    slack_team: SlackTeam,
) -> None:
    team, slack = slack_team, slack_team.slack
    slack.add_user("UROBOT", "CI bot", "UTC", is_bot=True)
    slack.add_user("UGONE", "Gone", "UTC", deleted=True)
    slack.add_user("UCARA", "Cara", "Asia/Tokyo")
    slack.channels["C1"] = ["UALICE", "UBOB", "UROBOT", "UGONE", "UCARA"]
    await team.command("UALICE", "setup at 09:30")
    membership = team.rituals.kinds["standup"].membership
    assert await membership.sync(1) is True
    assert await participants(team) == ["UALICE", "UBOB", "UCARA"]

    await team.command("UBOB", "leave")
    assert await membership.sync(1) is False
    assert await participants(team) == ["UALICE", "UCARA"]
    await team.command("UBOB", "join")
    assert await participants(team) == ["UALICE", "UBOB", "UCARA"]


async def test_an_out_of_office_status_keeps_someone_from_being_asked(
    slack_team: SlackTeam,
) -> None:
    team, slack = slack_team, slack_team.slack
    week = int(time.time()) + 7 * 86400
    slack.add_user(
        "UDAN",
        "Dan",
        "Europe/Berlin",
        status={"status_text": "OOO until Monday", "status_emoji": "", "status_expiration": week},
    )
    slack.channels["C1"] = ["UALICE", "UDAN"]
    await team.command("UALICE", "setup at 09:30")
    await team.rituals.kinds["standup"].membership.sync(1)
    await team.command("UALICE", "now")
    await team.deliver()
    asked = {p["channel"] for p in slack.posts() if p["channel"].startswith("U")}
    assert asked == {"UALICE"}
    async with team.db.session() as session:
        dan = (
            await session.execute(select(Member).where(Member.external_id == "UDAN"))
        ).scalar_one()
    assert dan.status_away is True and dan.status_away_until is not None


def test_which_statuses_count_as_out_of_office() -> None:
    from datetime import date

    from handlers.slack.people import out_of_office

    now = 1_800_000_000.0  # 2027-01-15
    assert out_of_office({"status_emoji": ":palm_tree:"}, now) == (True, None)
    assert out_of_office({"status_text": "Out of office"}, now) == (True, None)
    assert out_of_office({"status_text": "sick today", "status_expiration": now + 3600}, now) == (
        True,
        date(2027, 1, 15),
    )
    assert out_of_office({"status_text": "OOO", "status_expiration": now - 60}, now) == (
        False,
        None,
    )
    assert out_of_office({"status_text": "In a meeting", "status_emoji": ":calendar:"}, now) == (
        False,
        None,
    )
    assert out_of_office({"status_text": "Zoom-ing"}, now) == (False, None)
