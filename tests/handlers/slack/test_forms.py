"""Modals: answering every question at once, and the set-up dialog."""

from __future__ import annotations

import json

from sqlalchemy import select

from rituals.standup import settings as cfg
from storage.models import Answer, Ritual
from tests.handlers.slack import signing
from tests.handlers.slack.harness import FORM, SlackTeam


async def press_answer_all(team: SlackTeam, user: str) -> dict:
    await team.deliver()
    prompt = next(p for p in team.slack.posts() if p["channel"] == user)
    actions = next(b for b in prompt["blocks"] if b["type"] == "actions")
    button = actions["elements"][0]
    assert button["text"]["text"] == "Answer all at once"
    body = signing.button(button["action_id"], button["value"], user=user, channel="D" + user[1:])
    assert await team.post(body, FORM) == 200
    [opened] = team.slack.called("views.open")
    return opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])


async def test_a_prompt_opens_a_modal_and_its_answers_are_stored(slack_team: SlackTeam) -> None:
    team = slack_team
    await team.start_standup()
    view = await press_answer_all(team, "UALICE")
    assert view["callback_id"] == "standup.answers"
    assert [b["block_id"] for b in view["blocks"]] == ["q0", "q1", "q2"]
    assert view["blocks"][2]["label"]["text"] == "Anything blocking you?"

    values = {"q0": "shipped the ranker", "q1": "eval", "q2": "waiting on labels"}
    body = signing.submission(view["callback_id"], view["private_metadata"], values, user="UALICE")
    response = await team.http.post("/slack/events", data=body, headers=signing.headers(body, FORM))
    assert response.status == 200
    async with team.db.session() as session:
        texts = (
            await session.execute(select(Answer.text).order_by(Answer.question_index))
        ).scalars()
        assert list(texts) == ["shipped the ranker", "eval", "waiting on labels"]
    await team.deliver()
    assert any("Thanks" in p["text"] for p in team.slack.posts() if p["channel"] == "UALICE")


async def test_an_empty_answer_is_shown_on_its_field_and_nothing_is_stored(
    slack_team: SlackTeam,
) -> None:
    team = slack_team
    await team.command("UALICE", "setup at 09:30")
    await team.command("UALICE", "now")
    view = await press_answer_all(team, "UALICE")
    values = {"q0": "done", "q1": "  ", "q2": "none"}
    body = signing.submission(view["callback_id"], view["private_metadata"], values, user="UALICE")
    response = await team.http.post("/slack/events", data=body, headers=signing.headers(body, FORM))
    assert response.status == 200
    answer = await response.json()
    assert answer["response_action"] == "errors" and set(answer["errors"]) == {"q1"}
    async with team.db.session() as session:
        assert list((await session.execute(select(Answer))).scalars()) == []


async def test_setup_without_arguments_opens_the_settings_modal(slack_team: SlackTeam) -> None:
    team = slack_team
    assert await team.command("UALICE", "setup") == 200
    [opened] = team.slack.called("views.open")
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["callback_id"] == "standup.setup"
    fields = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"]}
    assert fields["at"] == "09:30" and fields["tz"] == "Europe/Berlin"

    bad = {"at": "25:00", "days": "mon-fri", "tz": "Mars/Olympus", "summary": "12:30"}
    body = signing.submission("standup.setup", "C1", bad, user="UALICE")
    response = await team.http.post("/slack/events", data=body, headers=signing.headers(body, FORM))
    errors = (await response.json())["errors"]
    assert set(errors) == {"at", "tz"}

    good = {"at": "10:15", "days": "mon,wed,fri", "tz": "Europe/Berlin", "summary": "13:00"}
    body = signing.submission("standup.setup", "C1", good, user="UALICE")
    response = await team.http.post("/slack/events", data=body, headers=signing.headers(body, FORM))
    assert response.status == 200
    async with team.db.session() as session:
        ritual = (await session.execute(select(Ritual))).scalar_one()
    options = cfg.of(ritual)
    assert (options.at, options.days, options.summary_at) == ("10:15", [1, 3, 5], "13:00")
