"""The backlog through Slack's real endpoint: an item by slash command and by modal, a list
answered privately and paged by its Next button, and the Done and Assign to me buttons."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from rituals.backlog.models import BacklogItem
from storage.db import Database
from tests.handlers.slack import signing
from tests.handlers.slack.harness import FORM, SlackTeam, running
from tests.handlers.slack.test_retro import blocks_of, texts


@pytest.fixture
async def slack_team(db: Database) -> AsyncIterator[SlackTeam]:
    async with running(db) as team:
        yield team


def buttons(call: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A message's buttons by label."""
    found = {}
    for block in blocks_of(call):
        if block["type"] == "actions":
            found.update({e["text"]["text"]: e for e in block["elements"]})
    return found


async def press(team: SlackTeam, button: dict[str, Any], user: str) -> int:
    return await team.post(signing.button(button["action_id"], button["value"], user=user), FORM)


def submission(view: dict[str, Any], values: dict[str, str], *, user: str) -> str:
    def picked(value: str) -> dict[str, Any]:
        return {"value": {"type": "static_select", "selected_option": {"value": value}}}

    def typed(value: str) -> dict[str, Any]:
        return {"value": {"type": "plain_text_input", "value": value or None}}

    state = {
        key: picked(values[key]) if key in ("type", "priority") else typed(values.get(key, ""))
        for key in ("type", "priority", "title", "description", "link", "owner")
    }
    payload = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "ml"},
        "user": {"id": user, "name": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2.3",
        "view": {
            "id": "V1",
            "hash": f"h{time.time():.6f}",
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "state": {"values": state},
        },
    }
    return urlencode({"payload": json.dumps(payload)})


async def items(db: Database) -> list[tuple[int, str, str, str]]:
    async with db.session() as session:
        found = await session.execute(select(BacklogItem).order_by(BacklogItem.number))
        return [(i.number, i.type, i.state, i.title) for i in found.scalars()]


async def test_items_by_command_and_modal_and_the_item_buttons(slack_team: SlackTeam) -> None:
    team = slack_team
    assert await team.command("UALICE", "add data p1 Dedup clicks", "/backlog") == 200
    assert await team.command("UALICE", "add", "/backlog") == 200
    (opened,) = team.slack.called("views.open")
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["callback_id"] == "backlog.add"
    assert [b["block_id"] for b in view["blocks"]] == [
        "type",
        "priority",
        "title",
        "description",
        "link",
        "owner",
    ]
    too_long = {"type": "eval", "priority": "p0", "title": "x" * 301}
    assert await team.post(submission(view, too_long, user="UALICE"), FORM) == 200
    assert await items(team.db) == [(1, "data", "open", "Dedup clicks")]
    good = {"type": "eval", "priority": "p0", "title": "Rerun baseline", "link": "https://x.org/1"}
    assert await team.post(submission(view, good, user="UALICE"), FORM) == 200
    await team.deliver()
    assert await items(team.db) == [
        (1, "data", "open", "Dedup clicks"),
        (2, "eval", "open", "Rerun baseline"),
    ]
    filed = [p for p in team.slack.posts() if "filed" in p.get("text", "")]
    assert [p["channel"] for p in filed] == ["C1", "C1"]
    assert "filed #2 [p0 eval] Rerun baseline" in filed[1]["text"]

    shown = buttons(filed[0])
    assert set(shown) == {"Done", "Assign to me"}
    assert await press(team, shown["Assign to me"], "UBOB") == 200
    assert await press(team, shown["Done"], "UBOB") == 200
    await team.deliver()
    assert (await items(team.db))[0][2] == "done"
    told = [c["text"] for c in team.slack.called("chat.postEphemeral")]
    assert any("#1 is now Bob's" in t for t in told)
    done = [p for p in team.slack.posts() if "moved #1" in p.get("text", "")]
    assert done and "— @Bob — done" in done[0]["text"]


async def test_a_list_answers_privately_and_pages_by_its_next_button(
    slack_team: SlackTeam,
) -> None:
    team = slack_team
    for n in range(1, 13):
        assert await team.command("UALICE", f"add data Item {n}", "/backlog") == 200
    await team.command("UALICE", "add model Not data", "/backlog")
    assert await team.command("UBOB", "list data", "/backlog") == 200
    await team.deliver()
    (first,) = [c.args for c in team.slack.calls if c.method in ("ack", "response_url")]
    assert first["response_type"] == "ephemeral"
    assert "items 1–10 (page 1)" in first["text"]
    assert "#10 [p2 data] Item 10" in texts(first) and "Item 11" not in texts(first)
    assert set(buttons(first)) == {"Next"}

    assert await press(team, buttons(first)["Next"], "UBOB") == 200
    await team.deliver()
    (second,) = team.slack.called("chat.postEphemeral")
    assert second["user"] == "UBOB" and second["channel"] == "C1"
    assert "items 11–12 (page 2)" in second["text"]
    assert "#11 [p2 data] Item 11" in texts(second) and "Not data" not in texts(second)
    assert set(buttons(second)) == {"Previous"}
