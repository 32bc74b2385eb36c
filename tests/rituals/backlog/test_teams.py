"""The backlog over Teams through /api/messages: an item typed in the channel and by card
form, the Done and Assign to me buttons on its card, and a list sent to the person's own
chat, paged by the Next button pressed there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from rituals.backlog.models import BacklogItem
from storage.db import Database
from tests.handlers.teams import activities as act
from tests.handlers.teams.harness import TeamsTeam, running
from tests.handlers.teams.test_retro import in_channel_card


@pytest.fixture
async def teams(db: Database) -> AsyncIterator[TeamsTeam]:
    async with running(db) as team:
        yield team


def actions(card: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    assert card is not None
    return {a["title"]: a for a in card.get("actions", [])}


async def states(db: Database) -> list[tuple[int, str, str]]:
    async with db.session() as session:
        found = await session.execute(select(BacklogItem).order_by(BacklogItem.number))
        return [(i.number, i.type, i.state) for i in found.scalars()]


async def test_items_by_message_and_card_form_and_their_buttons(teams: TeamsTeam) -> None:
    connector = teams.connector
    await teams.post(act.bot_added_to_team(teams.service_url))
    assert await teams.channel("29:alice", "backlog add data p1 Dedup clicks") == 200
    assert await teams.channel("29:alice", "backlog add") == 200
    form = next(c.card for c in connector.of("send") if c.card and "Input.ChoiceSet" in str(c.card))
    [submit] = form["actions"]
    assert submit["data"] == {"form_id": "backlog.add", "context": act.CHANNEL}
    inputs = {e["id"]: e for e in form["body"] if e["type"].startswith("Input.")}
    assert list(inputs) == ["type", "priority", "title", "description", "link", "owner"]
    data = {**submit["data"], "type": "eval", "priority": "p0", "title": "Rerun baseline"}
    status, _ = await teams.post(in_channel_card(teams, "29:alice", data, verb=submit["verb"]))
    assert status == 200
    await teams.deliver()
    assert await states(teams.db) == [(1, "data", "open"), (2, "eval", "open")]

    filed = [c for c in connector.sent_to(act.CHANNEL) if "filed #1" in c.text]
    assert len(filed) == 1
    buttons = actions(filed[0].card)
    assert set(buttons) == {"Done", "Assign to me"}
    assert buttons["Done"]["data"]["action_id"] == "backlog.done"
    mine = in_channel_card(teams, "29:bob", buttons["Assign to me"]["data"])
    assert (await teams.post(mine))[0] == 200
    assert (await teams.post(in_channel_card(teams, "29:bob", buttons["Done"]["data"])))[0] == 200
    await teams.deliver()
    assert await states(teams.db) == [(1, "data", "done"), (2, "eval", "open")]
    assert any("#1 is now Bob's" in c.text for c in connector.personal("29:bob"))


async def test_a_list_goes_to_the_persons_chat_and_pages_by_next(teams: TeamsTeam) -> None:
    connector = teams.connector
    await teams.post(act.bot_added_to_team(teams.service_url))
    for n in range(1, 13):
        assert await teams.channel("29:alice", f"backlog add data Item {n}") == 200
    assert await teams.channel("29:bob", "backlog list data") == 200
    await teams.deliver()
    (first,) = [c for c in connector.personal("29:bob") if "(page 1)" in c.text]
    assert "#10 [p2 data] Item 10" in first.text and "Item 11" not in first.text
    [next_page] = actions(first.card).values()
    assert next_page["title"] == "Next"

    status, _ = await teams.post(act.submitted(teams.service_url, "29:bob", next_page["data"]))
    assert status == 200
    await teams.deliver()
    (second,) = [c for c in connector.personal("29:bob") if "(page 2)" in c.text]
    assert "#11 [p2 data] Item 11" in second.text and "#12" in second.text
    assert list(actions(second.card)) == ["Previous"]
