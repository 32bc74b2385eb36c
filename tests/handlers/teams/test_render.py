"""Neutral messages as Adaptive Cards, and a card replaced in place."""

from __future__ import annotations

from handlers.teams import render
from rituals.messages import Attachment, Button, ButtonStyle, Field_, Message, Section
from rituals.outbound import queue
from storage.outbox import Envelope
from tests.handlers.teams import activities as act
from tests.handlers.teams.harness import TeamsTeam

ALERT = Message(
    text="*ranker* recall 0.71 < 0.80",
    sections=[Section(text="Firing since 09:12", fields=[Field_(label="Model", value="ranker")])],
    buttons=[
        Button(label="Acknowledge", action_id="alert.ack", value="7", style=ButtonStyle.primary)
    ],
    context="Alertmanager",
)


def test_a_message_with_buttons_is_a_card_with_submit_actions() -> None:
    card = render.card(ALERT)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"][0]["text"] == "**ranker** recall 0.71 < 0.80"
    assert {"type": "FactSet", "facts": [{"title": "Model", "value": "ranker"}]} in card["body"]
    [ack] = card["actions"]
    assert ack == {
        "type": "Action.Submit",
        "title": "Acknowledge",
        "data": {"action_id": "alert.ack", "value": "7"},
        "style": "positive",
    }


def test_plain_text_is_an_ordinary_message_with_nothing_to_inject() -> None:
    sent = render.activity(Message(text="a <b>bold</b> claim & more"))
    assert sent == {
        "type": "message",
        "text": "a &lt;b&gt;bold&lt;/b&gt; claim &amp; more",
        "textFormat": "markdown",
    }


def test_a_csv_export_is_shown_in_the_card_and_cut_when_too_long() -> None:
    short = render.card(
        Message(text="Export", attachment=Attachment(filename="a.csv", content="a,b\n1,2"))
    )
    assert any(e.get("fontType") == "Monospace" and e["text"] == "a,b\n1,2" for e in short["body"])
    huge = render.card(
        Message(text="Export", attachment=Attachment(filename="a.csv", content="x" * 50_000))
    )
    assert len(str(huge)) < 20_000


async def test_an_update_replaces_the_card_in_place(teams: TeamsTeam) -> None:
    await teams.post(act.bot_added_to_team(teams.service_url))
    now = teams.clock.now()
    async with teams.db.session() as session:
        first = await queue(
            session, Envelope("teams", act.TENANT, "post", channel=act.CHANNEL), ALERT, now
        )
        resolved = ALERT.model_copy(update={"text": "Resolved: ranker recall 0.83", "buttons": []})
        await queue(
            session,
            Envelope("teams", act.TENANT, "update", channel=act.CHANNEL, update_of=first),
            resolved,
            now,
        )
    await teams.deliver()
    await teams.deliver()
    [posted] = [c for c in teams.connector.of("send") if "ranker" in c.text]
    [updated] = teams.connector.of("update")
    assert (updated.conversation, updated.activity_id) == (act.CHANNEL, posted.activity_id)
    assert "Resolved" in updated.text and "actions" not in updated.card
