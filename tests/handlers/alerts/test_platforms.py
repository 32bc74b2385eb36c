"""Alerts on Slack and Teams through their real endpoints: connecting in the channel, an
Alertmanager group posted and updated in place, and the Acknowledge button pressed."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp.test_utils import TestClient

from storage.db import Database
from tests.handlers.alerts.harness import webhook
from tests.handlers.alerts.payloads import alertmanager, am_alert
from tests.handlers.slack import signing
from tests.handlers.slack.harness import FORM, SlackTeam
from tests.handlers.slack.harness import running as slack_running
from tests.handlers.teams import activities as act
from tests.handlers.teams.harness import running as teams_running

TOKEN = re.compile(r"/hooks/alerts/([A-Za-z0-9_\-]+)")


def blocks(call: dict[str, Any]) -> list[dict[str, Any]]:
    found = call.get("blocks", [])
    return json.loads(found) if isinstance(found, str) else found


def slack_buttons(call: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in blocks(call) if b["type"] == "actions" for e in b["elements"]]


async def test_alerts_on_slack(db: Database) -> None:
    async with slack_running(db) as team, webhook(team.rituals) as hook:
        await _slack(team, hook)


async def _slack(team: SlackTeam, hook: TestClient) -> None:
    assert await team.command("UALICE", "connect", "/alerts") == 200
    await team.deliver()
    (said,) = [t for t in team.private_replies() if "/hooks/alerts/" in t]
    token = TOKEN.search(said)[1]  # type: ignore[index]
    firing = [
        am_alert("AucDrop", model="churn", severity="critical", région="éu"),
        am_alert("P95High", model="churn"),
    ]
    response = await hook.post(f"/hooks/alerts/{token}", json=alertmanager(*firing))
    assert response.status == 200
    await team.deliver()
    (post,) = [p for p in team.slack.posts() if p.get("text", "").startswith("Alert: ")]
    assert post["channel"] == "C1"
    ack = slack_buttons(post)[0]
    assert ack["text"]["text"] == "Acknowledge #1"
    body = signing.button(ack["action_id"], ack["value"], user="UBOB")
    assert await team.post(body, FORM) == 200
    await team.deliver()
    updates = team.slack.called("chat.update")
    assert updates and "acknowledged by Bob" in json.dumps(blocks(updates[-1]), ensure_ascii=False)
    assert [e["text"]["text"] for e in slack_buttons(updates[-1])] == ["Acknowledge #2"]
    resolved = [dict(a, status="resolved") for a in firing]
    assert (await hook.post(f"/hooks/alerts/{token}", json=alertmanager(*resolved))).status == 200
    await team.deliver()
    last = team.slack.called("chat.update")[-1]
    assert last["text"].endswith("(resolved)") and "région=éu" in json.dumps(
        blocks(last), ensure_ascii=False
    )


async def test_alerts_on_teams(db: Database) -> None:
    async with teams_running(db) as teams, webhook(teams.rituals) as hook:
        await teams.post(act.bot_added_to_team(teams.service_url))
        assert await teams.channel("29:alice", "alerts connect") == 200
        await teams.deliver()
        said = [c.text for c in teams.connector.of("send") if "/hooks/alerts/" in c.text]
        token = TOKEN.search(said[-1])[1]  # type: ignore[index]
        # In the person's own chat with the bot, never where the channel reads it.
        assert not [c for c in teams.connector.sent_to(act.CHANNEL) if token in c.text]
        body = alertmanager(am_alert("AucDrop", model="churn", severity="critical"))
        assert (await hook.post(f"/hooks/alerts/{token}", json=body)).status == 200
        await teams.deliver()
        (card,) = [c for c in teams.connector.sent_to(act.CHANNEL) if c.text.startswith("Alert")]
        [button] = card.card["actions"]  # type: ignore[index]
        assert button["data"] == {"action_id": "alerts.ack", "value": "1"}
        activity = act.in_channel(teams.service_url, "29:bob", "")
        for key in ("text", "entities", "textFormat"):
            activity.pop(key, None)
        activity["value"] = button["data"]
        assert (await teams.post(activity))[0] == 200
        await teams.deliver()
        updated = [c for c in teams.connector.of("update") if c.activity_id == card.activity_id]
        assert updated and "acknowledged by Bob" in updated[-1].text
