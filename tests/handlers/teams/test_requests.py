"""What is not an activity gets a 4xx and changes nothing; edits, installs and zones."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

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
from tests.handlers.teams.harness import TeamsTeam, running
from tests.logs import logged


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


def a_message(teams: TeamsTeam) -> dict:
    return act.personal(teams.service_url, "29:alice", "standup status")


def a_channel_post(teams: TeamsTeam) -> dict:
    return act.in_channel(teams.service_url, "29:alice", "standup status")


def a_card_action(teams: TeamsTeam) -> dict:
    return act.executed(teams.service_url, "29:alice", "submit", {"form_id": "standup.setup"})


def an_install(teams: TeamsTeam) -> dict:
    return act.installed_personally(teams.service_url, "29:alice")


async def test_a_card_submit_with_every_field_typed_is_still_handled(teams: TeamsTeam) -> None:
    """The checks refuse types, not shapes: unknown keys and nulls pass as Teams sends them."""
    activity = act.submitted(
        teams.service_url, "29:alice", {"action_id": "standup.skip", "value": 3, "msteams": {}}
    )
    activity["channelData"]["legacy"] = {"anything": [1, 2.5, None, True]}
    activity["conversation"]["name"] = None
    assert (await teams.post(activity))[0] == 200
    assert await teams.left_unhandled() == 0


@pytest.fixture
async def door(sqlite_db: Database) -> AsyncIterator[TeamsTeam]:
    """The door on SQLite alone: what these tests send is refused before anything reaches
    a database, so running them on PostgreSQL too would only repeat them."""
    async with running(sqlite_db) as team:
        yield team


WRONG_TYPES = {
    "from-a-string": (a_message, "from", "29:alice"),
    "from-id-a-number": (a_message, "from.id", 29),
    "from-name-a-list": (a_message, "from.name", ["Alice"]),
    "from-an-object-on-install": (an_install, "from", "29:alice"),
    "recipient-id-an-object": (a_message, "recipient.id", {"id": "28:bot"}),
    "conversation-id-a-number": (a_message, "conversation.id", 5),
    "conversation-type-a-number": (a_message, "conversation.conversationType", 5),
    "is-group-text": (a_channel_post, "conversation.isGroup", "yes"),
    "tenant-a-list": (a_message, "channelData.tenant", ["tenant-1"]),
    "tenant-id-a-number": (a_message, "channelData.tenant.id", 1),
    "conversation-tenant-an-object": (a_message, "conversation.tenantId", {"id": "t"}),
    "team-a-string": (a_channel_post, "channelData.team", "19:team"),
    "channel-id-an-object": (a_channel_post, "channelData.channel.id", {"id": "19:c"}),
    "channel-data-a-list": (a_message, "channelData", [{"tenant": {"id": "tenant-1"}}]),
    "text-a-number": (a_message, "text", 5),
    "value-a-list": (a_message, "value", [{"action_id": "standup.skip"}]),
    "value-text": (a_message, "value", "standup.skip"),
    "a-card-input-a-list": (a_message, "value", {"form_id": "standup.setup", "at": ["9"]}),
    "a-button-value-an-object": (a_message, "value", {"action_id": "x", "value": {}}),
    "action-a-list": (a_card_action, "value.action", [{"verb": "submit"}]),
    "action-data-a-list": (a_card_action, "value.action.data", ["standup.setup"]),
    "form-id-a-number": (a_card_action, "value.action.data.form_id", 3),
    "locale-a-number": (a_message, "locale", 1033),
    "local-timezone-a-list": (a_message, "localTimezone", ["Europe/Paris"]),
    "entities-an-object": (a_channel_post, "entities", {"type": "mention"}),
    "mentioned-a-string": (a_channel_post, "entities", [{"type": "mention", "mentioned": "x"}]),
    "members-added-text": (an_install, "membersAdded", "28:bot"),
    "members-added-numbers": (an_install, "membersAdded", [28]),
    "install-action-a-number": (an_install, "action", 1),
    "a-nul-in-the-text": (a_message, "text", "standup\x00status"),
    "a-nul-in-a-field-name": (a_message, "channelData.x\x00y", "z"),
    "a-lone-surrogate": (a_message, "from.name", "Al\ud800ice"),
    "nesting-past-32": (a_message, "channelData.x", act.nested(40)),
    "service-url-past-300": (a_message, "serviceUrl", "https://smba.example/" + "x" * 300),
    "team-id-past-300": (a_channel_post, "channelData.team.id", "19:" + "t" * 300),
    "sender-id-past-128-on-install": (an_install, "from.id", "29:" + "a" * 200),
}


@pytest.mark.parametrize(("activity", "path", "value"), WRONG_TYPES.values(), ids=WRONG_TYPES)
async def test_a_field_the_edge_reads_of_the_wrong_type_is_a_400_before_anything_is_stored(
    door: TeamsTeam,
    caplog: pytest.LogCaptureFixture,
    activity: Callable[[TeamsTeam], dict],
    path: str,
    value: Any,
) -> None:
    body = json.dumps(act.changed(activity(door), path, value)).encode()
    with logged(caplog) as logs:
        assert await door.post_json(body) == 400
    assert await door.stored() == 0
    assert logs.tracebacks == []
    assert logs.requests == [("/api/messages", 400)]


UNREADABLE_JSON = {
    "a-number-past-a-float": ("value", '{"action_id": "standup.skip", "n": 1e400}'),
    "infinity": ("channelData", '{"tenant": {"id": "tenant-1"}, "n": Infinity}'),
    "nan": ("conversation", '{"id": "a:1", "n": NaN}'),
    "an-integer-of-5000-digits": ("channelData", '{"n": ' + "9" * 5000 + "}"),
    "nesting-past-the-recursion-limit": ("channelData", "[" * 100_000 + "]" * 100_000),
}


@pytest.mark.parametrize(("key", "raw"), UNREADABLE_JSON.values(), ids=UNREADABLE_JSON)
async def test_json_that_cannot_be_stored_as_sent_is_a_400(
    door: TeamsTeam, caplog: pytest.LogCaptureFixture, key: str, raw: str
) -> None:
    with logged(caplog) as logs:
        assert await door.post_json(act.spliced(a_message(door), key, raw)) == 400
    assert await door.stored() == 0
    assert logs.tracebacks == []


@pytest.mark.parametrize(
    "name", ["signin/tokenExchange", "signin/verifyState", "composeExtension/query", "healthCheck"]
)
async def test_an_invoke_the_bot_does_not_answer_is_a_400_not_a_5xx(
    door: TeamsTeam, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    with logged(caplog) as logs:
        status, _ = await door.post({**a_card_action(door), "name": name})
    assert status == 400
    assert logs.tracebacks == []
