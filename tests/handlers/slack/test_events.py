"""Slack end to end: signed requests to our real /slack/events, the Web API a fake on 127.0.0.1."""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta

from aiohttp import web
from sqlalchemy import event, func, select

from storage.db import Database
from storage.models import Answer, InboundEvent, JournalEntry, Member, Ritual
from tests.handlers.slack import signing
from tests.handlers.slack.harness import FORM, JSON, SlackTeam


async def count(db: Database, model) -> int:
    async with db.session() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def delivered(db: Database, delivery_id: str) -> int:
    async with db.session() as session:
        stmt = select(func.count()).where(InboundEvent.delivery_id == delivery_id)
        return (await session.execute(stmt)).scalar_one()


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


async def test_a_command_is_stored_and_acknowledged_before_it_is_handled(
    slack_team: SlackTeam,
) -> None:
    body = signing.slash("/standup", "setup at 09:30", user="UALICE")
    response = await slack_team.http.post(
        "/slack/events", data=body, headers=signing.headers(body, FORM)
    )
    assert response.status == 200
    assert await response.text() == ""
    assert await count(slack_team.db, JournalEntry) == 1
    assert await count(slack_team.db, Ritual) == 0
    await slack_team.journal.drain()
    assert await count(slack_team.db, Ritual) == 1
    assert await count(slack_team.db, JournalEntry) == 0


async def test_a_private_reply_goes_back_through_the_commands_response_url(
    slack_team: SlackTeam,
) -> None:
    assert await slack_team.command("UALICE", "join") == 200
    await slack_team.deliver()
    (reply,) = [c.args for c in slack_team.slack.calls if c.method == "response_url"]
    assert "no stand-up in this channel" in reply["text"].lower()
    assert reply["response_type"] == "ephemeral"
    assert reply["blocks"][0]["type"] == "section"
    assert slack_team.slack.called("chat.postEphemeral") == []


async def test_an_expired_response_url_falls_back_to_an_ephemeral_message(
    slack_team: SlackTeam,
) -> None:
    slack_team.slack.failures["response_url"] = [web.Response(status=404, text="expired_url")]
    assert await slack_team.command("UALICE", "join") == 200
    await slack_team.deliver()
    (fallback,) = slack_team.slack.called("chat.postEphemeral")
    assert fallback["user"] == "UALICE"
    assert "no stand-up in this channel" in fallback["text"].lower()


async def test_a_command_that_opens_a_form_is_handled_on_arrival(slack_team: SlackTeam) -> None:
    body = signing.slash("/standup", "setup", user="UALICE")
    response = await slack_team.http.post(
        "/slack/events", data=body, headers=signing.headers(body, FORM)
    )
    assert response.status == 200
    assert await count(slack_team.db, JournalEntry) == 0
    (opened,) = slack_team.slack.called("views.open")
    assert opened["view"]["type"] == "modal"


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
    await team.start_standup()
    body = signing.event(signing.dm("UBOB", "my answer", ts="1700002000.000001"), event_id="EvSAME")
    for retry in range(3):
        hdrs = signing.headers(body, JSON)
        if retry:
            hdrs |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        response = await team.http.post("/slack/events", data=body, headers=hdrs)
        assert response.status == 200
        assert await count(team.db, JournalEntry) == 1
    await team.journal.drain()
    assert await count(team.db, Answer) == 1
    assert await delivered(team.db, "EvSAME") == 1


async def test_an_event_redelivered_after_it_was_handled_changes_nothing(
    slack_team: SlackTeam,
) -> None:
    team = slack_team
    await team.start_standup()
    for _ in range(2):
        assert await team.dm("UBOB", "my answer", event_id="EvLATE") == 200
        assert await count(team.db, JournalEntry) == 0
    assert await count(team.db, Answer) == 1
    assert await delivered(team.db, "EvLATE") == 1


async def test_the_resolve_button_resolves_the_blocker(slack_team: SlackTeam) -> None:
    team = slack_team
    await team.start_standup()
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


def edited(user: str, ts: str, before: str, after: str, **extra: object) -> dict:
    return {
        "type": "message",
        "subtype": "message_changed",
        "channel": "D" + user[1:],
        "channel_type": "im",
        "message": {
            "type": "message",
            "user": user,
            "text": after,
            "ts": ts,
            "edited": {"user": user},
        },
        "previous_message": {"type": "message", "user": user, "text": before, "ts": ts},
        "ts": "1700009999.000001",
        **extra,
    }


async def test_editing_an_answer_in_slack_changes_it_and_unfurls_do_not(
    slack_team: SlackTeam,
) -> None:
    team = slack_team
    await team.start_standup()
    body = signing.event(
        signing.dm("UALICE", "frist draft", ts="1700003000.000001"), event_id="Ev1"
    )
    await team.post(body, JSON)
    change = edited("UALICE", "1700003000.000001", "frist draft", "first draft")
    await team.post(signing.event(change, event_id="Ev2"), JSON)
    unfurl = edited("UALICE", "1700003000.000001", "first draft", "first draft", hidden=True)
    await team.post(signing.event(unfurl, event_id="Ev3"), JSON)
    stranger = edited("UALICE", "1700000000.999999", "hello", "hello there")
    await team.post(signing.event(stranger, event_id="Ev4"), JSON)
    async with team.db.session() as session:
        assert (await session.execute(select(Answer.text))).scalar_one() == "first draft"
    await team.deliver()
    to_alice = [p["text"] for p in team.slack.posts() if p["channel"] == "UALICE"]
    assert sum("Updated your answer" in t for t in to_alice) == 1
    assert not any("not one of your" in t for t in to_alice)


async def test_an_answer_sent_with_a_file_counts_and_mentions_become_ids(
    slack_team: SlackTeam,
) -> None:
    team = slack_team
    await team.command("UALICE", "setup at 09:30")
    await team.command("UALICE", "questions Blockers?")
    await team.command("UBOB", "join")
    await team.command("UALICE", "now")
    message = signing.dm("UALICE", "waiting on <@UBOB> for <https://x.test/run|the run>", ts="1.5")
    message["subtype"] = "file_share"
    await team.post(signing.event(message, event_id="EvFile"), JSON)
    async with team.db.session() as session:
        text = (await session.execute(select(Answer.text))).scalar_one()
    assert text == "waiting on @UBOB for the run (https://x.test/run)"


async def test_a_slack_outage_during_users_info_does_not_lose_the_command(
    slack_team: SlackTeam,
) -> None:
    team = slack_team
    team.slack.fail("users.info", 500, times=5)
    assert await team.command("UALICE", "setup at 09:30") == 200
    assert await count(team.db, Ritual) == 1


async def test_a_form_slack_would_not_open_gets_a_fallback_note(slack_team: SlackTeam) -> None:
    team = slack_team
    team.slack.fail("views.open", 500)
    assert await team.command("UALICE", "setup") == 200
    await team.deliver()
    assert any("did not open the form" in p["text"] for p in team.slack.posts())


async def test_the_export_arrives_as_a_csv_file_in_a_direct_message(slack_team: SlackTeam) -> None:
    team = slack_team
    await team.start_standup()
    long_answer = "x" * 2500
    for text in (long_answer, long_answer, "none"):
        await team.dm("UALICE", text)
    assert await team.command("UALICE", "export") == 200
    await team.deliver()
    [completed] = team.slack.called("files.completeUploadExternal")
    assert completed["channel_id"] == "DALICE"
    [content] = team.slack.uploads.values()
    rows = content.decode().splitlines()
    assert rows[0].startswith("date,channel,member_id") and len(rows) == 4
    assert long_answer in rows[1]  # nothing cut, unlike a message's 3,000 characters


async def test_calls_to_slack_reuse_connections_while_the_pool_is_open(
    slack_team: SlackTeam,
) -> None:
    team = slack_team
    async with contextlib.asynccontextmanager(team.pool.lifetime)(web.Application()):
        await team.command("UALICE", "setup at 09:30")
        await team.command("UBOB", "join")
        await team.command("UALICE", "now")
        await team.deliver()
        await team.dm("UALICE", "trained the ranker")
        await team.deliver()
    calls = [c for c in team.slack.calls if c.method != "response_url"]
    assert len(calls) >= 8
    assert len({c.peer for c in calls}) <= len(calls) // 2


async def store_away(team: SlackTeam, people: list[str]) -> None:
    """Each of ``people`` says they are away; stored in the journal, not yet handled."""
    for user in people:
        body = signing.slash(
            "/standup", "away until 2030-08-15", user=user, response_url=team.slack.respond_url
        )
        response = await team.http.post(
            "/slack/events", data=body, headers=signing.headers(body, FORM)
        )
        assert response.status == 200


async def test_a_batch_asks_slack_who_its_new_senders_are_before_it_holds_the_database(
    slack_team: SlackTeam,
) -> None:
    people = [f"UNEW{n}" for n in range(6)]
    await store_away(slack_team, people)
    commits: list[int] = []
    listener = lambda _conn: commits.append(1)  # noqa: E731
    event.listen(slack_team.db.engine.sync_engine, "commit", listener)
    try:
        await slack_team.journal.drain()
    finally:
        event.remove(slack_team.db.engine.sync_engine, "commit", listener)
    asked = [c.args.get("user") for c in slack_team.slack.calls if c.method == "users.info"]
    assert sorted(asked) == people
    assert await slack_team.stored() == 0
    # The claim, the batches (one on SQLite) and the claim that finds nothing more: no
    # commit of a batch cut short to ask Slack about one person.
    assert len(commits) <= 3 + slack_team.journal.parallel < 3 + len(people)


async def test_when_slack_cannot_say_who_new_senders_are_their_names_come_from_the_payload(
    slack_team: SlackTeam,
) -> None:
    people = ["UNEW0", "UNEW1"]
    slack_team.slack.fail("users.info", 500, times=len(people))
    await store_away(slack_team, people)
    await slack_team.journal.drain()
    async with slack_team.db.session() as session:
        rows = await session.execute(select(Member.external_id, Member.name))
        assert dict(rows.tuples().all()) == {"UNEW0": "unew0", "UNEW1": "unew1"}
