"""Hypotheses through the real doors: Slack's signed requests to /slack/events and Teams'
activities to /api/messages, the check-in asked in a direct message and answered there."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest

from rituals.hypothesis import HypothesisKind
from storage.db import Database
from tests.handlers.slack import harness as slack
from tests.handlers.slack import signing
from tests.handlers.teams import activities as act
from tests.handlers.teams import harness as teams
from tests.rituals.hypothesis.support import hypotheses, points

CANVAS = (
    "add We believe dedup will result in cleaner labels; "
    "we'll know when precision >= 0.9 checkin daily"
)


@pytest.fixture
async def slack_team(db: Database) -> AsyncIterator[slack.SlackTeam]:
    async with slack.running(db) as team:
        yield team


@pytest.fixture
async def teams_team(db: Database) -> AsyncIterator[teams.TeamsTeam]:
    async with teams.running(db) as team:
        yield team


def kind_in(kinds: dict[str, object]) -> HypothesisKind:
    kind = kinds["hypothesis"]
    assert isinstance(kind, HypothesisKind)
    return kind


async def ask_due(db: Database, clock: object, kind: HypothesisKind) -> None:
    """Move the clock to the first check-in and sweep, as the scheduler would."""
    [h] = await hypotheses(db)
    assert h.next_checkin_at is not None
    clock.set(h.next_checkin_at)  # type: ignore[attr-defined]
    assert await kind.checkins.sweep() == 1


async def test_a_hypothesis_over_slack_with_a_check_in_in_a_dm(
    slack_team: slack.SlackTeam,
) -> None:
    team = slack_team
    assert await team.command("UALICE", CANVAS, "/hypothesis") == 200
    await team.deliver()
    [proposed] = [p for p in team.slack.posts() if p["text"].startswith("Hypothesis #1")]
    assert proposed["channel"] == "C1"
    [h] = await hypotheses(team.db)
    # Alice is in Berlin: asked at 09:00 there, 08:00 UTC in November.
    assert h.next_checkin_at is not None and h.next_checkin_at.hour == 8

    await ask_due(team.db, team.clock, kind_in(team.rituals.kinds))
    await team.deliver()
    [question] = [p for p in team.slack.posts() if p["text"].startswith("Check-in for hyp")]
    assert question["channel"] != "C1"

    assert await team.dm("UALICE", "on track 0.87 labels look cleaner") == 200
    await team.deliver()
    assert await points(team.db) == [(0.87, "on-track", "labels look cleaner")]
    replies = [p["text"] for p in team.slack.posts() if p["channel"] == question["channel"]]
    assert replies[-1].startswith("Check-in for #1 recorded: on track · precision 0.87")

    # The next day's answer, delivered twice by Slack, is one point.
    await ask_due(team.db, team.clock, kind_in(team.rituals.kinds))
    body = signing.event(
        signing.dm("UALICE", "at risk 0.5 drift", ts="1700002000.000001"), event_id="EvX"
    )
    assert await team.post(body, slack.JSON) == 200
    assert await team.post(body, slack.JSON) == 200
    assert await points(team.db) == [
        (0.87, "on-track", "labels look cleaner"),
        (0.5, "at-risk", "drift"),
    ]


async def test_a_check_in_by_modal_from_the_dm_over_slack(slack_team: slack.SlackTeam) -> None:
    team = slack_team
    assert await team.command("UALICE", CANVAS, "/hypothesis") == 200
    await ask_due(team.db, team.clock, kind_in(team.rituals.kinds))
    await team.deliver()
    [question] = [p for p in team.slack.posts() if p["text"].startswith("Check-in for hyp")]
    blocks = question["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    actions = next(b for b in blocks if b["type"] == "actions")
    [button] = actions["elements"]
    assert button["action_id"].startswith("hypothesis.checkin")
    press = signing.button(button["action_id"], button["value"], user="UALICE", channel="DALICE")
    assert await team.post(press, slack.FORM) == 200
    (opened,) = team.slack.called("views.open")
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["callback_id"] == "hypothesis.checkin"
    state = {
        "status": {"value": {"type": "static_select", "selected_option": {"value": "at-risk"}}},
        "value": {"value": {"type": "plain_text_input", "value": "0.74"}},
        "evidence": {"value": {"type": "plain_text_input", "value": "drift"}},
    }
    payload = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "ml"},
        "user": {"id": "UALICE", "name": "ualice", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2.4",
        "view": {
            "id": "V1",
            "hash": "h1",
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "state": {"values": state},
        },
    }
    assert await team.post(urlencode({"payload": json.dumps(payload)}), slack.FORM) == 200
    assert await points(team.db) == [(0.74, "at-risk", "drift")]
    assert "Nothing is waiting" in " ".join(await _dm_replies(team, "UALICE", "on track 0.9 x"))


async def _dm_replies(team: slack.SlackTeam, user: str, text: str) -> list[str]:
    before = len(team.slack.posts())
    assert await team.dm(user, text) == 200
    await team.deliver()
    return [p["text"] for p in team.slack.posts()[before:]]


async def test_the_add_modal_over_slack(slack_team: slack.SlackTeam) -> None:
    team = slack_team
    assert await team.command("UALICE", "add", "/hypothesis") == 200
    (opened,) = team.slack.called("views.open")
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["callback_id"] == "hypothesis.add"
    assert "belief" in [b["block_id"] for b in view["blocks"]]


async def test_a_hypothesis_over_teams_with_a_check_in_in_a_dm(
    teams_team: teams.TeamsTeam,
) -> None:
    t = teams_team
    assert (await t.post(act.bot_added_to_team(t.service_url)))[0] == 200
    assert await t.channel("29:alice", "hypothesis " + CANVAS) == 200
    await t.deliver()
    assert any(c.text.startswith("Hypothesis #1") for c in t.connector.sent_to(act.CHANNEL))

    await ask_due(t.db, t.clock, kind_in(t.rituals.kinds))
    await t.deliver()
    [question] = [
        c for c in t.connector.personal("29:alice") if c.text.startswith("Check-in for hyp")
    ]
    assert question.card is not None

    assert await t.dm("29:alice", "at risk 0.71 drift in March") == 200
    await t.deliver()
    assert await points(t.db) == [(0.71, "at-risk", "drift in March")]
    assert any(
        c.text.startswith("Check-in for #1 recorded: at risk")
        for c in t.connector.personal("29:alice")
    )


async def test_the_add_card_over_teams(teams_team: teams.TeamsTeam) -> None:
    t = teams_team
    assert (await t.post(act.bot_added_to_team(t.service_url)))[0] == 200
    assert await t.channel("29:alice", "hypothesis add") == 200
    form = next(
        c.card for c in t.connector.of("send") if c.card and "Propose a hypothesis" in str(c.card)
    )
    [submit] = form["actions"]
    assert submit["data"] == {"form_id": "hypothesis.add", "context": act.CHANNEL}
    data = {
        **submit["data"],
        "belief": "dedup",
        "result": "cleaner labels",
        "metric": "precision",
        "op": ">=",
        "target": "0.9",
        "checkin": "weekly fri",
    }
    activity = act.in_channel(t.service_url, "29:alice", "")
    for key in ("text", "entities", "textFormat"):
        activity.pop(key, None)
    activity["type"] = "invoke"
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {
        "action": {"type": "Action.Execute", "verb": submit["verb"], "data": data},
        "trigger": "manual",
    }
    status, _ = await t.post(activity)
    assert status == 200
    [h] = await hypotheses(t.db)
    assert (h.number, h.metric, h.cadence) == (1, "precision", "weekly fri")
