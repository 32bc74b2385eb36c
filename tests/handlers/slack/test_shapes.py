"""Signed bodies of the wrong shape are refused at the door, so what is acknowledged is what
the worker can handle; user text is taken as it comes, NUL included."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Answer, JournalEntry, Ritual
from tests.handlers.slack import signing
from tests.handlers.slack.harness import FORM, JSON, SlackTeam
from tests.handlers.slack.test_events import count
from tests.logs import logged

Change = Callable[[dict[str, Any]], object]


def _walk(found: dict[str, Any], path: str) -> tuple[Any, str | int]:
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node: Any = found
    for part in parents:
        node = node[part]
    return node, last


def setting(path: str, value: Any) -> Change:
    """Set the field at a dotted path (list items by number) to ``value``."""

    def change(found: dict[str, Any]) -> None:
        node, last = _walk(found, path)
        node[last] = value

    return change


def without(path: str) -> Change:
    def change(found: dict[str, Any]) -> None:
        node, last = _walk(found, path)
        del node[last]

    return change


def dm(text: str = "my answer") -> str:
    return signing.event(signing.dm("UBOB", text, ts="1700002000.000001"), event_id="EvShape")


def press() -> str:
    return signing.button("standup.resolve#0", "1", user="UALICE")


def submit() -> str:
    return signing.submission("standup.setup", "C1", {"at": "09:30"}, user="UALICE")


def command() -> str:
    return signing.slash("/standup", "status", user="UALICE")


WRONG_SHAPES: dict[str, tuple[str, Change]] = {
    "view_submission-without-view.type": (submit(), without("view.type")),
    "view_submission-without-callback_id": (submit(), without("view.callback_id")),
    "view_submission-without-view": (submit(), without("view")),
    "view-state-values-a-list": (submit(), setting("view.state.values", [1])),
    "view-input-a-string": (submit(), setting("view.state.values.at", "09:30")),
    "event-a-list": (dm(), setting("event", [1])),
    "event-without-type": (dm(), without("event.type")),
    "event-user-an-object": (dm(), setting("event.user", {"id": "UBOB"})),
    "event-text-a-number": (dm(), setting("event.text", 5)),
    "event-ts-an-object": (dm(), setting("event.ts", {"t": 1})),
    "event-thread_ts-a-number": (dm(), setting("event.thread_ts", 1.5)),
    "event-team_id-a-list": (dm(), setting("team_id", ["T1"])),
    "event-without-team_id": (dm(), without("team_id")),
    "event-id-a-number": (dm(), setting("event_id", 7)),
    "edit-message-a-string": (dm(), setting("event.message", "edited")),
    "actions-item-without-action_id": (press(), without("actions.0.action_id")),
    "actions-empty": (press(), setting("actions", [])),
    "actions-an-object": (press(), setting("actions", {"action_id": "x"})),
    "action-value-a-list": (press(), setting("actions.0.value", ["1"])),
    "team-not-an-object": (press(), setting("team", "T1")),
    "team-id-a-number": (press(), setting("team.id", 1)),
    "user-a-string": (press(), setting("user", "UALICE")),
    "user-id-missing": (press(), without("user.id")),
    "channel-a-list": (press(), setting("channel", ["C1"])),
    "enterprise-a-number": (press(), setting("enterprise", 5)),
    "command-without-user_id": (command(), without("user_id")),
    "command-without-team_id": (command(), without("team_id")),
    "command-user_id-with-nul": (command(), setting("user_id", "UAL\x00ICE")),
    "command-channel_name-with-nul": (command(), setting("channel_name", "ml\x00team")),
    "command-not-a-slash-command": (command(), setting("command", "standup")),
}


@pytest.mark.parametrize(("body", "change"), WRONG_SHAPES.values(), ids=WRONG_SHAPES.keys())
async def test_a_signed_body_of_the_wrong_shape_is_refused_and_stores_nothing(
    slack_team: SlackTeam, caplog: pytest.LogCaptureFixture, body: str, change: Change
) -> None:
    content_type = JSON if body.startswith("{") else FORM
    with logged(caplog) as logs:
        assert await slack_team.post(signing.reshaped(body, change), content_type) == 400
    assert logs.tracebacks == []
    assert await slack_team.stored() == 0
    assert slack_team.calls_to_slack() == []


async def test_the_refusal_names_the_field(slack_team: SlackTeam) -> None:
    body = signing.reshaped(dm(), setting("event.user", {"id": "UBOB"}))
    response = await slack_team.http.post(
        "/slack/events", data=body, headers=signing.headers(body, JSON)
    )
    assert response.status == 400
    assert await response.json() == {"error": "expected event.user to be a Slack id"}


async def test_an_answer_holding_nul_is_acknowledged_and_stored_as_json_that_parses(
    slack_team: SlackTeam,
) -> None:
    """NUL in what a person typed is the rituals' to strip; the door keeps it, escaped, in a
    body that PostgreSQL can store and the worker can read back."""
    body = dm("fixed the \x00 loader")
    response = await slack_team.http.post(
        "/slack/events", data=body, headers=signing.headers(body, JSON)
    )
    assert response.status == 200
    async with slack_team.db.session() as session:
        stored = (await session.execute(select(JournalEntry.body))).scalar_one()
    assert json.loads(stored)["event"]["text"] == "fixed the \x00 loader"


async def test_a_lone_surrogate_anywhere_is_refused(slack_team: SlackTeam) -> None:
    """No database can store half of a UTF-16 pair, and Slack never sends one."""
    for body, content_type in (
        (dm().replace("my answer", "my \\ud800 answer"), JSON),
        (signing.reshaped(press(), setting("user.name", "\ud800")), FORM),
    ):
        assert await slack_team.post(body, content_type) == 400
    assert await slack_team.stored() == 0


async def test_an_answer_of_the_right_shape_still_arrives(slack_team: SlackTeam) -> None:
    """The door keeps every field the listeners read, so a whole stand-up still works."""
    await slack_team.start_standup()
    assert await slack_team.dm("UBOB", "trained the ranker") == 200
    async with slack_team.db.session() as session:
        assert (await session.execute(select(Answer.text))).scalar_one() == "trained the ranker"
    assert await count(slack_team.db, Ritual) == 1


async def test_requests_of_kinds_no_listener_handles_are_acknowledged_and_not_stored(
    slack_team: SlackTeam,
) -> None:
    joined = {"type": "member_joined_channel", "user": {"id": "UBOB"}, "channel": "C1"}
    shortcut = {"type": "shortcut", "callback_id": "x", "team": "T1", "user": 5}
    for body, content_type in (
        (signing.event(joined, event_id="EvJoin"), JSON),
        (signing.reshaped(press(), lambda p: (p.clear(), p.update(shortcut))), FORM),
        ('{"type": "app_rate_limited", "team_id": "T1"}', JSON),
        ("ssl_check=1&token=legacy", FORM),
    ):
        assert await slack_team.post(body, content_type) == 200
    assert await slack_team.stored() == 0
