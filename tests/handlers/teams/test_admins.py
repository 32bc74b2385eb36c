"""Teams never tells a bot who administers a tenant: the operator names admins by their
Entra object id (``aadObjectId``) or Bot Framework id in RITUALBOT_ADMINS, and only they
change what is for admins, here switching the model off, through the real /api/messages."""

from __future__ import annotations

from sqlalchemy import select

from rituals.identity import Admins
from rituals.llm.models import ModelChoice
from storage.models import Member
from tests.handlers.teams.harness import TeamsTeam


async def model_choices(teams: TeamsTeam) -> list[tuple[bool, str]]:
    """Each workspace's say on the model, with who had it."""
    async with teams.db.session() as session:
        rows = await session.execute(select(ModelChoice))
        found = []
        for choice in rows.scalars():
            member = await session.get(Member, choice.changed_by)
            found.append((choice.off, member.external_id if member else ""))
        return found


async def said_privately(teams: TeamsTeam, user: str, text: str) -> str:
    assert await teams.dm(user, text) == 200
    await teams.deliver()
    return teams.connector.personal(user)[-1].text


async def test_a_user_listed_by_entra_object_id_turns_the_model_off(teams: TeamsTeam) -> None:
    teams.rituals.rt.admins = Admins.of(["AAD-29:ALICE"])  # as the operator wrote it

    reply = await said_privately(teams, "29:alice", "ask model off")

    assert reply.startswith("The model is now off for this workspace")
    assert await model_choices(teams) == [(True, "29:alice")]


async def test_a_user_listed_by_bot_framework_id_is_an_admin_too(teams: TeamsTeam) -> None:
    teams.rituals.rt.admins = Admins.of(["29:carol"])

    reply = await said_privately(teams, "29:carol", "ask model off")

    assert reply.startswith("The model is now off for this workspace")


async def test_a_user_not_listed_is_refused_and_nothing_changes(teams: TeamsTeam) -> None:
    teams.rituals.rt.admins = Admins.of(["aad-29:alice"])

    reply = await said_privately(teams, "29:bob", "ask model off")

    assert reply == "Only a workspace admin can turn the model on or off for the workspace."
    assert await model_choices(teams) == []


async def test_with_nobody_listed_nobody_on_teams_is_an_admin(teams: TeamsTeam) -> None:
    reply = await said_privately(teams, "29:alice", "ask model off")

    assert reply.startswith("Only a workspace admin")
    assert await model_choices(teams) == []
