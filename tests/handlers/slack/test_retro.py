"""A retro through Slack's real endpoints: the board, items by command and by modal, a vote
button in the board's thread, and the summary."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from tests.handlers.slack import signing
from tests.handlers.slack.harness import FORM, SlackTeam


def modal_submission(view: dict[str, Any], values: dict[str, Any], *, user: str) -> str:
    """A view_submission of the add-an-item modal: a picker, a text and a checkbox."""
    state = {
        "category": {
            "value": {"type": "static_select", "selected_option": {"value": values["category"]}}
        },
        "text": {"value": {"type": "plain_text_input", "value": values["text"]}},
        "anonymous": {
            "value": {
                "type": "checkboxes",
                "selected_options": [{"value": "true"}] if values["anonymous"] else [],
            }
        },
    }
    payload = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "ml"},
        "user": {"id": user, "name": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2.3",
        "view": {
            "id": view.get("id", "V1"),
            "hash": f"h{time.time():.6f}",
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "state": {"values": state},
        },
    }
    return urlencode({"payload": json.dumps(payload)})


def board_posts(team: SlackTeam) -> list[dict[str, Any]]:
    return [p for p in team.slack.posts() if p.get("text", "").startswith("Retro: ")]


def blocks_of(call: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = call.get("blocks", [])
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def texts(post: dict[str, Any]) -> str:
    """What a message shows: its sections' and context's text, one per line."""
    shown = []
    for block in blocks_of(post):
        if block["type"] == "section":
            shown.append(block["text"]["text"])
        elif block["type"] == "context":
            shown.extend(e["text"] for e in block["elements"])
    return "\n".join(shown)


def vote_button(post: dict[str, Any]) -> dict[str, Any]:
    actions = next(b for b in blocks_of(post) if b["type"] == "actions")
    return next(e for e in actions["elements"] if e["action_id"].startswith("retro.vote"))


async def test_a_retro_from_start_to_summary(slack_team: SlackTeam) -> None:
    team = slack_team
    assert await team.command("UALICE", "start Sprint 14", "/retro") == 200
    await team.deliver()
    (board,) = board_posts(team)
    assert board["channel"] == "C1" and "thread_ts" not in board

    assert await team.command("UBOB", "add well Shipped the ranker", "/retro") == 200
    assert await team.command("UALICE", "add", "/retro") == 200
    (opened,) = team.slack.called("views.open")
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["callback_id"] == "retro.add"
    assert [b["block_id"] for b in view["blocks"]] == ["category", "text", "anonymous"]
    values = {"category": "improve", "text": "Flaky CI", "anonymous": True}
    body = modal_submission(view, values, user="UALICE")
    assert await team.post(body, FORM) == 200
    await team.deliver()

    items = [p for p in team.slack.posts() if p.get("thread_ts")]
    assert [texts(p) for p in items] == [
        "#1 · Went well\nShipped the ranker\nfrom Bob",
        "#2 · To improve\nFlaky CI\nanonymous",
    ]
    assert {p["thread_ts"] for p in items} == {"1700000000.000001"}
    assert [p["text"] for p in team.slack.posts() if p["channel"] == "UALICE"] == [
        "Added anonymously."
    ]

    button = vote_button(items[1])
    assert (
        await team.post(signing.button(button["action_id"], button["value"], user="UBOB"), FORM)
        == 200
    )
    await team.deliver()
    updates = team.slack.called("chat.update")
    assert "*To improve*\n• #2 Flaky CI — 1 vote" in texts(updates[-1])
    assert updates[-1]["ts"] == "1700000000.000001"

    assert await team.command("UALICE", "close", "/retro") == 200
    await team.deliver()
    (summary,) = [p for p in team.slack.posts() if p.get("text", "").startswith("Retro summary")]
    assert "Sprint 14 — 2 items, 1 vote" in summary["text"]
    assert "(closed)" in team.slack.called("chat.update")[-1]["text"]
