"""Slack end to end: signed requests to our real /slack/events, the Web API a fake on 127.0.0.1."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select

from storage.db import Database
from storage.models import Answer, InboundEvent, Ritual
from tests.handlers.slack import signing
from tests.handlers.slack.harness import FORM, JSON, SlackTeam


async def count(db: Database, model) -> int:
    async with db.session() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_url_verification_answers_the_challenge(slack_team: SlackTeam) -> None:
    body = '{"token": "legacy", "challenge": "c-123", "type": "url_verification"}'
    response = await slack_team.http.post(
        "/slack/events", data=body, headers=signing.headers(body, JSON)
    )
    assert response.status == 200
    assert (await response.json())["challenge"] == "c-123"


async def test_a_whole_standup_over_slack(slack_team: SlackTeam) -> None:
    team, slack = slack_team, slack_team.slack
    assert await team.command("UALICE", "setup at 09:30 tz Europe/Berlin summary 18:00") == 200
    assert await team.command("UBOB", "join") == 200
    assert await team.command("UALICE", "now") == 200
    await team.deliver()
    prompts = [p for p in slack.posts() if p["channel"].startswith("U")]
    assert sorted(p["channel"] for p in prompts) == ["UALICE", "UBOB"]
    assert all("question 1 of 3" in p["text"] for p in prompts)

    for user, answers in (
        ("UALICE", ["trained", "evaluate", "GPU quota from <@UBOB>"]),
        ("UBOB", ["data", "labels", "none"]),
    ):
        for text in answers:
            assert await team.dm(user, text) == 200
    await team.deliver()

    summary = next(p for p in slack.posts() if p["channel"] == "C1" and "2/2 answered" in p["text"])
    blocks_text = str(summary["blocks"])
    assert "Blockers" in blocks_text and "GPU quota from" in blocks_text
    assert any(b["type"] == "actions" for b in summary["blocks"])
    thread = [p for p in slack.posts() if p.get("thread_ts")]
    assert len(thread) == 2 and {p["channel"] for p in thread} == {"C1"}
    async with team.db.session() as session:
        tz = await session.execute(select(Ritual.tz))
        assert tz.scalar_one() == "Europe/Berlin"


async def test_replies_to_commands_are_ephemeral(slack_team: SlackTeam) -> None:
    await slack_team.command("UALICE", "status")
    await slack_team.deliver()
    [reply] = slack_team.slack.called("chat.postEphemeral")
    assert reply["user"] == "UALICE" and reply["channel"] == "C1"
    assert "no stand-up in this channel" in reply["text"].lower()


async def test_a_forged_signature_is_refused_and_stores_nothing(slack_team: SlackTeam) -> None:
    body = signing.slash("/standup", "setup at 09:30", user="UALICE")
    status = await slack_team.post(body, FORM, secret="not-the-secret")
    assert status == 401
    assert await count(slack_team.db, Ritual) == 0


async def test_a_request_older_than_five_minutes_is_refused(slack_team: SlackTeam) -> None:
    body = signing.slash("/standup", "setup at 09:30", user="UALICE")
    status = await slack_team.post(body, FORM, timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    assert await count(slack_team.db, Ritual) == 0


async def test_an_unsigned_request_is_refused(slack_team: SlackTeam) -> None:
    body = signing.slash("/standup", "setup at 09:30", user="UALICE")
    response = await slack_team.http.post(
        "/slack/events", data=body, headers={"Content-Type": FORM}
    )
    assert response.status == 401
    assert await count(slack_team.db, Ritual) == 0


async def test_an_event_delivered_three_times_is_stored_once(slack_team: SlackTeam) -> None:
    team = slack_team
    await team.command("UALICE", "setup at 09:30")
    await team.command("UBOB", "join")
    await team.command("UALICE", "now")
    body = signing.event(signing.dm("UBOB", "my answer", ts="1700002000.000001"), event_id="EvSAME")
    for retry in range(3):
        hdrs = signing.headers(body, JSON)
        if retry:
            hdrs |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        response = await team.http.post("/slack/events", data=body, headers=hdrs)
        assert response.status == 200
    assert await count(team.db, Answer) == 1
    assert await count(team.db, InboundEvent) == 1


async def test_the_resolve_button_resolves_the_blocker(slack_team: SlackTeam) -> None:
    team = slack_team
    await team.command("UALICE", "setup at 09:30")
    await team.command("UBOB", "join")
    await team.command("UALICE", "now")
    for text in ("a", "b", "stuck on auth"):
        await team.dm("UALICE", text)
    assert await team.post(signing.button("standup.resolve#0", "1", user="UALICE"), FORM) == 200
    await team.deliver()
    assert any("resolved by Alice" in p["text"] for p in team.slack.posts())


async def test_a_burst_of_rate_limits_delays_but_delivers_everything_in_order(
    slack_team: SlackTeam,
) -> None:
    team = slack_team
    await team.command("UALICE", "setup at 09:30")
    for day in (1, 2, 3):
        await team.command("UALICE", f"skip 2026-12-0{day}")
    team.slack.fail("chat.postMessage", 429, retry_after=30, times=2)
    await team.deliver()
    assert team.slack.posts() == []
    for _ in range(2):
        team.clock.advance(timedelta(seconds=30))
        await team.deliver()
    texts = [p["text"] for p in team.slack.posts()]
    assert texts[1:] == [
        "No stand-up on Tue 01 Dec 2026.",
        "No stand-up on Wed 02 Dec 2026.",
        "No stand-up on Thu 03 Dec 2026.",
    ]
    assert texts[0].startswith("The stand-up for #ml-team is set up.")


async def test_server_errors_are_retried_until_delivered(slack_team: SlackTeam) -> None:
    team = slack_team
    await team.command("UALICE", "setup at 09:30")
    team.slack.fail("chat.postMessage", 500, times=3)
    for _ in range(4):
        await team.deliver()
        team.clock.advance(timedelta(seconds=10))
    assert len(team.slack.posts()) == 1
    assert sum(not c.ok for c in team.slack.calls) == 3


async def test_opening_the_app_home_publishes_the_persons_page(slack_team: SlackTeam) -> None:
    team = slack_team
    await team.command("UALICE", "setup at 09:30")
    await team.command("UALICE", "now")
    for text in ("a", "b", "stuck on the eval cluster"):
        await team.dm("UALICE", text)
    opened = {"type": "app_home_opened", "user": "UALICE", "channel": "DALICE", "tab": "home"}
    assert await team.post(signing.event(opened, event_id="EvHOME"), JSON) == 200
    [published] = team.slack.called("views.publish")
    assert published["user_id"] == "UALICE"
    text = str(published["view"]["blocks"])
    assert "#ml-team: 09:30 Mon–Fri" in text and "stuck on the eval cluster" in text
