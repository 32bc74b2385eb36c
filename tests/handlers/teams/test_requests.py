"""What is not an activity gets a 4xx and changes nothing; edits, installs and zones."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.web import MAX_BODY_BYTES
from storage.db import Database
from storage.models import (
    Answer,
    InboundEvent,
    JournalEntry,
    Member,
    TeamsConversation,
    TeamsMember,
)
from tests.handlers.teams import activities as act
from tests.handlers.teams.harness import TeamsTeam


async def nothing_stored(db: Database) -> bool:
    async with db.session() as session:
        for model in (InboundEvent, Member, TeamsConversation):
            if (await session.execute(select(func.count()).select_from(model))).scalar_one():
                return False
    return True


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[]",
        '"message"',
        json.dumps({"type": "message"}),
        json.dumps({"type": "message", "conversation": {"id": "a:1"}, "serviceUrl": "ftp://x"}),
    ],
    ids=["broken", "array", "string", "no-conversation", "bad-service-url"],
)
async def test_malformed_activity_json_is_a_400(teams: TeamsTeam, body: str) -> None:
    response = await teams.http.post(
        "/api/messages", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert await nothing_stored(teams.db)


async def test_a_message_without_a_sender_is_a_400(teams: TeamsTeam) -> None:
    activity = act.personal(teams.service_url, "29:bob", "standup status")
    del activity["from"]
    assert (await teams.post(activity))[0] == 400
    assert await nothing_stored(teams.db)


async def test_a_body_that_is_not_json_is_a_415(teams: TeamsTeam) -> None:
    response = await teams.http.post("/api/messages", data="type=message")
    assert response.status == 415
    assert await nothing_stored(teams.db)


async def test_an_oversized_body_is_a_413(teams: TeamsTeam) -> None:
    activity = act.personal(teams.service_url, "29:bob", "x" * (MAX_BODY_BYTES + 10))
    assert (await teams.post(activity))[0] == 413
    assert await nothing_stored(teams.db)


async def test_a_personal_install_keeps_the_chat_for_later_prompts(teams: TeamsTeam) -> None:
    status, _ = await teams.post(act.installed_personally(teams.service_url, "29:carol"))
    assert status == 200
    async with teams.db.session() as session:
        chat = (await session.execute(select(TeamsConversation))).scalar_one()
    assert (chat.kind, chat.user_id, chat.conversation_id) == (
        "personal",
        "29:carol",
        "a:1on1-29:carol",
    )


async def test_a_members_zone_from_their_client_is_kept(teams: TeamsTeam) -> None:
    await teams.dm("29:bob", "help", tz="Asia/Kolkata")
    await teams.dm("29:bob", "help", tz="Not/AZone")
    async with teams.db.session() as session:
        kept = (await session.execute(select(TeamsMember))).scalar_one()
        member = (await session.execute(select(Member))).scalar_one()
    assert (
        kept.local_timezone == "Asia/Kolkata"
    )  # a client that says nothing usable changes nothing
    assert member.tz == "Asia/Kolkata"


async def test_editing_an_answer_in_teams_changes_it(teams: TeamsTeam) -> None:
    await teams.post(act.bot_added_to_team(teams.service_url))
    await teams.channel("29:alice", "standup setup at 09:30")
    await teams.channel("29:alice", "standup now")
    first = act.personal(teams.service_url, "29:alice", "frist draft")
    await teams.post(first)
    edited = {
        **first,
        "type": "messageUpdate",
        "text": "first draft",
        "channelData": {**first["channelData"], "eventType": "editMessage"},
    }
    for _ in range(2):
        assert (await teams.post(edited))[0] == 200
    async with teams.db.session() as session:
        assert list((await session.execute(select(Answer.text))).scalars()) == ["first draft"]


async def test_the_bots_own_messages_are_ignored(teams: TeamsTeam) -> None:
    activity = act.personal(teams.service_url, "29:bob", "standup status")
    activity["from"] = {"id": "28:bot-app-id", "name": "ritualbot", "role": "bot"}
    assert (await teams.post(activity))[0] == 200
    async with teams.db.session() as session:
        assert (await session.execute(select(func.count()).select_from(Member))).scalar_one() == 0


async def test_a_teams_body_that_is_not_utf8_is_a_400_not_a_500(teams: TeamsTeam) -> None:
    response = await teams.http.post(
        "/api/messages", data=b'{"type": "\xff"}', headers={"Content-Type": "application/json"}
    )
    assert response.status == 400


@pytest.mark.parametrize(
    "fields",
    [
        {"entities": 5},
        {"entities": [5]},
        {"channelData": []},
        {"channelData": {"tenant": 5}},
        {"value": 5},
        {"recipient": 3},
        {"attachments": 4},
        {"timestamp": 5},
        {"membersAdded": [3]},
        {"conversation": {"id": "a:1", "conversationType": 5}},
    ],
    ids=str,
)
async def test_a_field_of_the_wrong_type_is_refused_before_it_is_stored(
    teams: TeamsTeam, fields: dict
) -> None:
    for activity in (
        act.personal(teams.service_url, "29:alice", "standup status"),
        act.in_channel(teams.service_url, "29:alice", "standup status"),
        act.executed(teams.service_url, "29:alice", "submit", {"form_id": "standup.setup"}),
    ):
        response = await teams.http.post("/api/messages", json={**activity, **fields})
        assert response.status in (200, 400)
        if response.status == 400:
            async with teams.db.session() as session:
                stored = select(func.count()).select_from(JournalEntry)
                assert (await session.execute(stored)).scalar_one() == 0
        await teams.journal.drain()
        async with teams.db.session() as session:
            left = select(func.count()).select_from(JournalEntry)
            assert (await session.execute(left)).scalar_one() == 0, "stored but not handled"
