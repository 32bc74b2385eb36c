"""A retro over Teams: the board card in the channel, items by command and by card form,
a vote button in the board's thread, and the summary."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from rituals.retro.models import RetroItem
from tests.handlers.teams import activities as act
from tests.handlers.teams.harness import TeamsTeam


def in_channel_card(teams: TeamsTeam, user: str, data: dict[str, Any], *, verb: str = "") -> dict:
    """A card's button or form used in the channel: ``Action.Submit`` as a message with a
    ``value``, or with a ``verb``, an ``Action.Execute`` invoke."""
    activity = act.in_channel(teams.service_url, user, "")
    for key in ("text", "entities", "textFormat"):
        activity.pop(key, None)
    if not verb:
        activity["value"] = data
        return activity
    activity["type"] = "invoke"
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {
        "action": {"type": "Action.Execute", "verb": verb, "data": data},
        "trigger": "manual",
    }
    return activity


def boards(teams: TeamsTeam) -> list[Any]:
    return [c for c in teams.connector.sent_to(act.CHANNEL) if c.text.startswith("Retro: ")]


async def test_a_retro_over_teams(teams: TeamsTeam) -> None:
    connector = teams.connector
    await teams.post(act.bot_added_to_team(teams.service_url))
    assert await teams.channel("29:alice", "retro start Sprint 14") == 200
    assert await teams.channel("29:bob", "retro add well Shipped the ranker") == 200
    await teams.deliver()
    (board,) = boards(teams)
    assert board.reply_to is None and board.card is not None

    assert await teams.channel("29:alice", "retro add") == 200
    form = next(c.card for c in connector.of("send") if c.card and "Input.Toggle" in str(c.card))
    [submit] = form["actions"]
    assert submit["data"] == {"form_id": "retro.add", "context": act.CHANNEL}
    inputs = {e["id"]: e for e in form["body"] if e["type"].startswith("Input.")}
    assert [c["value"] for c in inputs["category"]["choices"]] == [
        "well",
        "improve",
        "idea",
        "action",
    ]
    data = {**submit["data"], "category": "improve", "text": "Flaky CI", "anonymous": "true"}
    status, _ = await teams.post(in_channel_card(teams, "29:alice", data, verb=submit["verb"]))
    assert status == 200
    await teams.deliver()

    items = [c for c in connector.of("send") if c.reply_to == board.activity_id]
    assert [c.text for c in items if c.text.startswith("#")] == [
        "#1 · Went well\nShipped the ranker\nfrom Bob",
        "#2 · To improve\nFlaky CI\nanonymous",
    ]
    anonymous = next(c for c in items if "Flaky CI" in c.text)
    assert "anonymous" in anonymous.text and "alice" not in anonymous.text.lower()
    [vote] = anonymous.card["actions"]  # type: ignore[index]
    assert vote["data"] == {"action_id": "retro.vote", "value": "2"}

    assert (await teams.post(in_channel_card(teams, "29:bob", vote["data"])))[0] == 200
    await teams.deliver()
    updated = [c for c in connector.of("update") if c.activity_id == board.activity_id]
    assert updated and "#2 Flaky CI — 1 vote" in updated[-1].text

    assert await teams.channel("29:alice", "retro close") == 200
    await teams.deliver()
    (summary,) = [c for c in connector.sent_to(act.CHANNEL) if c.text.startswith("Retro summary")]
    assert "Sprint 14 — 2 items, 1 vote" in summary.text
    assert "(closed)" in connector.of("update")[-1].text


async def test_an_anonymous_item_cannot_be_typed_where_the_channel_sees_who_typed_it(
    teams: TeamsTeam,
) -> None:
    await teams.post(act.bot_added_to_team(teams.service_url))
    assert await teams.channel("29:alice", "retro start Sprint 14") == 200
    assert await teams.channel("29:bob", "retro add improve Alice micromanages anon") == 200
    await teams.deliver()

    async with teams.db.session() as session:
        assert (await session.execute(select(RetroItem))).scalars().all() == []
    told = [c.text for c in teams.connector.of("send") if "cannot be anonymous" in c.text]
    assert told and "Alice micromanages" not in told[0]
