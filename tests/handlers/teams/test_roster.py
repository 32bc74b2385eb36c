"""The Teams roster: a channel's people from the channel's members, through TeamsInfo."""

from __future__ import annotations

from sqlalchemy import select

from rituals.roster import Person
from storage.models import Ritual
from tests.handlers.teams import activities as act
from tests.handlers.teams.fake_connector import BOT_ID
from tests.handlers.teams.harness import TeamsTeam


def member(user: str, name: str) -> dict:
    return {"id": user, "name": name, "aadObjectId": f"aad-{user}", "tenantId": act.TENANT}


async def test_a_channels_people_are_its_teams_members_page_by_page(teams: TeamsTeam) -> None:
    teams.connector.teams[act.TEAM] = [
        member("29:alice", "Alice"),
        member(BOT_ID, "ritualbot"),
        member("29:bob", "Bob"),
        member("29:carol", "Carol"),
    ]
    await teams.post(act.bot_added_to_team(teams.service_url))
    roster = teams.rituals.rt.rosters["teams"]
    people = await roster.members(act.TENANT, act.CHANNEL)
    assert people == [
        Person("29:alice", "Alice", None),
        Person("29:bob", "Bob", None),
        Person("29:carol", "Carol", None),
    ]
    pages = teams.connector.of("members")
    assert len(pages) == 2 and {p.conversation for p in pages} == {act.TEAM}


async def test_a_roster_teams_cannot_give_leaves_participants_as_they_are(
    teams: TeamsTeam,
) -> None:
    await teams.post(act.bot_added_to_team(teams.service_url))
    roster = teams.rituals.rt.rosters["teams"]
    assert await roster.members(act.TENANT, act.CHANNEL) is None  # the team is unknown: 404
    assert await roster.members(act.TENANT, "19:never-seen@thread.tacv2") is None


async def test_a_standup_follows_its_teams_roster(teams: TeamsTeam) -> None:
    teams.connector.teams[act.TEAM] = [member("29:alice", "Alice"), member("29:carol", "Carol")]
    await teams.post(act.bot_added_to_team(teams.service_url))
    await teams.channel("29:alice", "standup setup at 09:30")
    async with teams.db.session() as session:
        ritual_id = (await session.execute(select(Ritual.id))).scalar_one()
    assert await teams.rituals.kinds["standup"].membership.sync(ritual_id)
    await teams.channel("29:alice", "standup now")
    await teams.deliver()
    asked = sorted(c.body["members"][0]["id"] for c in teams.connector.of("create"))
    assert asked == ["29:alice", "29:carol"]


async def test_a_private_channels_people_are_its_own_members_not_the_teams(
    teams: TeamsTeam,
) -> None:
    private = "19:private-ranking@thread.tacv2"
    teams.connector.teams[act.TEAM] = [member("29:alice", "Alice"), member("29:bob", "Bob")]
    teams.connector.teams[private] = [member("29:alice", "Alice")]
    activity = act.in_channel(
        teams.service_url, "29:alice", "standup status", channel=private, channel_name="ranking"
    )
    assert (await teams.post(activity))[0] == 200
    roster = teams.rituals.rt.rosters["teams"]
    assert await roster.members(act.TENANT, private) == [Person("29:alice", "Alice", None)]
