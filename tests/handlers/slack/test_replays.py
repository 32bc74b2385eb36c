"""Replays: a signed request without Slack's ids is keyed by a digest of the signed timestamp
and body, so sending it twice changes nothing twice."""

from __future__ import annotations

import time

from sqlalchemy import select

from handlers.slack.door import examine
from storage.models import Answer
from tests.handlers.slack import signing
from tests.handlers.slack.harness import FORM, JSON, SlackTeam
from tests.handlers.slack.test_door import OPENS_FORM


async def twice(team: SlackTeam, body: str, content_type: str) -> None:
    """The same signed request, headers and all, sent a second time after the first was
    handled (the journal forgets handled requests; the rituals must not)."""
    stamp = int(time.time())
    for _ in range(2):
        assert await team.post(body, content_type, timestamp=stamp) == 200
        await team.deliver()


async def answers(team: SlackTeam) -> list[str]:
    async with team.db.session() as session:
        return list((await session.execute(select(Answer.text))).scalars())


async def test_an_event_without_an_event_id_sent_twice_is_answered_once(
    slack_team: SlackTeam,
) -> None:
    await slack_team.start_standup()
    body = signing.event(signing.dm("UBOB", "trained", ts="1700002000.000001"), event_id=None)
    await twice(slack_team, body, JSON)
    second = signing.event(signing.dm("UBOB", "evaluate", ts="1700002000.000002"), event_id=None)
    await twice(slack_team, second, JSON)
    assert await answers(slack_team) == ["trained", "evaluate"]


async def test_a_command_without_a_trigger_id_sent_twice_is_handled_once(
    slack_team: SlackTeam,
) -> None:
    await slack_team.command("UALICE", "setup at 09:30")
    await slack_team.deliver()
    before = len(slack_team.private_replies())
    body = signing.slash(
        "/standup", "status", user="UALICE", response_url=slack_team.slack.respond_url, ids=False
    )
    await twice(slack_team, body, FORM)
    assert len(slack_team.private_replies()) == before + 1


async def test_a_button_without_an_action_ts_pressed_twice_is_handled_once(
    slack_team: SlackTeam,
) -> None:
    await slack_team.start_standup()
    for text in ("a", "b", "stuck on auth"):
        await slack_team.dm("UALICE", text)
    body = signing.button("standup.resolve#0", "1", user="UALICE", ids=False)
    await twice(slack_team, body, FORM)
    resolved = [p for p in slack_team.slack.posts() if "resolved by Alice" in p["text"]]
    assert len(resolved) == 1


def test_requests_without_ids_are_keyed_by_what_was_signed() -> None:
    """Keyed by its user alone (``action::UALICE``, as before), a second, different press
    would pass for a replay of the first and be dropped."""

    def key(body: str, stamp: str) -> str | None:
        return examine(body, FORM, opens_form=OPENS_FORM, timestamp=stamp).delivery

    press = signing.button("standup.resolve#0", "1", user="UALICE", ids=False)
    other = signing.button("standup.resolve#1", "2", user="UALICE", ids=False)
    assert key(press, "1700000000") == key(press, "1700000000")
    assert key(press, "1700000000") != key(press, "1700000001")
    assert key(press, "1700000000") != key(other, "1700000000")
