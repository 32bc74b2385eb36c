"""Teams end to end: Activity JSON posted to our real /api/messages, the Bot Connector a
fake on 127.0.0.1 that the tests inspect."""

from __future__ import annotations

from sqlalchemy import func, select

from rituals.standup import settings as cfg
from storage.db import Database
from storage.models import InboundEvent, JournalEntry, Member, Ritual, TeamsConversation
from tests.handlers.teams import activities as act
from tests.handlers.teams.harness import TeamsTeam


async def count(db: Database, model) -> int:
    async with db.session() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def conversations(db: Database) -> list[TeamsConversation]:
    async with db.session() as session:
        return list((await session.execute(select(TeamsConversation))).scalars())


async def test_the_bot_added_to_a_team_keeps_the_channels_reference(teams: TeamsTeam) -> None:
    status, _ = await teams.post(act.bot_added_to_team(teams.service_url))
    assert status == 200
    [stored] = await conversations(teams.db)
    assert (stored.tenant_id, stored.conversation_id, stored.kind) == (
        act.TENANT,
        act.CHANNEL,
        "channel",
    )
    assert stored.team_id == act.TEAM
    assert stored.service_url == teams.service_url
    assert stored.reference["bot"]["id"] == "28:bot-app-id"
    assert stored.reference["conversation"]["tenantId"] == act.TENANT


async def test_the_bot_added_to_a_channel_introduces_itself_once(teams: TeamsTeam) -> None:
    added = act.bot_added_to_team(teams.service_url)
    for _ in range(2):
        assert (await teams.post(added))[0] == 200
    await teams.deliver()
    [welcome] = teams.connector.sent_to(act.CHANNEL)
    assert "stand-up" in welcome.text and "standup setup" in welcome.text


async def test_a_channel_command_with_its_mention_sets_up_a_standup(teams: TeamsTeam) -> None:
    assert await teams.channel("29:alice", "standup setup at 09:30 tz Europe/Berlin") == 200
    async with teams.db.session() as session:
        ritual = (await session.execute(select(Ritual))).scalar_one()
    assert (cfg.of(ritual).at, ritual.tz) == ("09:30", "Europe/Berlin")
    assert ritual.channel.external_id == act.CHANNEL
    await teams.deliver()
    [post] = teams.connector.sent_to(act.CHANNEL)
    assert "stand-up for #General is set up" in post.text


async def test_a_personal_message_is_a_command_and_its_reply_comes_back_there(
    teams: TeamsTeam,
) -> None:
    assert await teams.dm("29:bob", "standup blockers", tz="America/New_York") == 200
    await teams.deliver()
    [reply] = teams.connector.personal("29:bob")
    assert reply.text
    async with teams.db.session() as session:
        member = (await session.execute(select(Member))).scalar_one()
    assert (member.external_id, member.name, member.tz) == ("29:bob", "Bob", "America/New_York")
    [chat] = [c for c in await conversations(teams.db) if c.kind == "personal"]
    assert chat.user_id == "29:bob"
    assert teams.connector.of("create") == []


async def test_the_same_activity_delivered_twice_is_handled_once(teams: TeamsTeam) -> None:
    activity = act.in_channel(teams.service_url, "29:alice", "standup setup at 09:30")
    for _ in range(2):
        assert (await teams.post(activity))[0] == 200
    assert await count(teams.db, InboundEvent) == 1
    await teams.deliver()
    assert len(teams.connector.sent_to(act.CHANNEL)) == 1


async def test_an_activity_is_stored_and_acknowledged_before_it_is_handled(
    teams: TeamsTeam,
) -> None:
    activity = act.in_channel(teams.service_url, "29:alice", "standup setup at 09:30")
    response = await teams.http.post("/api/messages", json=activity)
    assert response.status == 200
    assert await count(teams.db, JournalEntry) == 1
    assert await count(teams.db, Ritual) == 0
    await teams.journal.drain()
    assert await count(teams.db, Ritual) == 1
    assert await count(teams.db, JournalEntry) == 0


async def test_two_people_whose_messages_share_an_activity_id_are_both_handled(
    teams: TeamsTeam,
) -> None:
    """Teams gives a message the id of its millisecond (as the fixtures do); two people in
    their own 1:1 chats writing in the same millisecond share it. Keyed on the id alone,
    the second is acknowledged and then thrown away as a "redelivery"."""
    same = act.next_id()
    alice = act.personal(teams.service_url, "29:alice", "standup blockers")
    bob = act.personal(teams.service_url, "29:bob", "standup blockers")
    alice["id"] = bob["id"] = same
    # Both arrive before the worker runs, as concurrent requests do.
    for activity in (alice, bob):
        response = await teams.http.post("/api/messages", json=activity)
        assert response.status == 200
    await teams.journal.drain()
    await teams.deliver()
    assert teams.connector.personal("29:alice"), "alice got her reply"
    assert teams.connector.personal("29:bob"), "bob's acknowledged message was lost"


async def test_a_channel_teams_leaves_unnamed_is_named_from_the_teams_channel_list(
    teams: TeamsTeam,
) -> None:
    ranking = "19:ranking@thread.tacv2"
    teams.connector.channels[act.TEAM] = [{"id": act.TEAM}, {"id": ranking, "name": "ranking"}]
    for text in ("standup setup at 09:30", "standup status"):
        activity = act.in_channel(teams.service_url, "29:alice", text, channel=ranking)
        del activity["channelData"]["channel"]["name"]
        assert (await teams.post(activity))[0] == 200
    await teams.deliver()
    assert any("#ranking is set up" in c.text for c in teams.connector.sent_to(ranking))
    assert len(teams.connector.of("channels")) == 1


async def test_two_messages_in_a_long_conversation_id_are_both_handled(teams: TeamsTeam) -> None:
    conversation = {"id": "a:1" + "x" * 190, "conversationType": "personal"}
    for words in ("standup status", "help"):
        assert await teams.dm("29:alice", words, conversation=conversation) == 200
    await teams.deliver()
    assert len(teams.connector.sent_to(conversation["id"])) == 2
