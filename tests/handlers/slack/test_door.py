"""The door: what is stored to be handled after the ack, and what bad input does to it."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from bot.kinds import registry
from handlers.slack import app as slack_app
from handlers.slack.app import opens_form
from handlers.slack.door import examine
from rituals.clock import SystemClock
from rituals.router import Rituals
from rituals.runtime import Runtime
from storage.db import Database
from storage.models import JournalEntry
from tests.handlers.slack import signing
from tests.handlers.slack.harness import FORM, JSON, SlackTeam

OPENS_FORM = opens_form(
    Rituals(Runtime(db=Database("sqlite+aiosqlite://"), clock=SystemClock()), registry())
)
words = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)


def stored_later(body: str, content_type: str = FORM):  # type: ignore[no-untyped-def]
    return examine(body, content_type, opens_form=OPENS_FORM).arrival


@given(body=words, content_type=st.sampled_from([FORM, JSON, "text/plain", ""]))
def test_any_body_is_either_stored_or_left_to_bolt_and_never_raises(
    body: str, content_type: str
) -> None:
    verdict = examine(body, content_type, opens_form=OPENS_FORM)
    assert verdict.arrival is None or verdict.arrival.platform == "slack"
    assert verdict.problem is None or verdict.arrival is None


@given(
    text=words.filter(lambda t: t.strip().lower() != "setup"),
    user=st.from_regex(r"U[A-Z0-9]{1,10}", fullmatch=True),
)
def test_a_slash_command_is_stored_in_its_authors_lane(text: str, user: str) -> None:
    arrival = stored_later(signing.slash("/standup", text, user=user, trigger_id="9.9"))
    assert arrival is not None
    assert arrival.lane == f"slack:T1:{user}"
    assert arrival.delivery_id == "command:9.9"


def test_commands_and_buttons_that_open_a_modal_are_handled_on_arrival() -> None:
    assert stored_later(signing.slash("/standup", " Setup ", user="U1")) is None
    assert stored_later(signing.button("standup.answers", "4", user="U1")) is None
    assert stored_later(signing.button("standup.resolve", "4", user="U1")) is not None


def test_forms_and_url_checks_are_handled_on_arrival() -> None:
    submission = signing.submission("standup.setup", "C1", {"at": "09:30"}, user="U1")
    assert stored_later(submission) is None
    assert stored_later(json.dumps({"type": "url_verification", "challenge": "c"}), JSON) is None


def test_an_event_is_stored_under_its_event_id() -> None:
    body = signing.event(signing.dm("U7", "hi", ts="1.2"), event_id="Ev42")
    arrival = stored_later(body, JSON)
    assert arrival is not None
    assert (arrival.delivery_id, arrival.lane) == ("Ev42", "slack:T1:U7")


def test_channel_chatter_is_ignored_and_only_thread_replies_are_stored() -> None:
    chatter = signing.event(signing.channel_message("U7", "lunch?", ts="5.1"), event_id="Ev1")
    parent = signing.event(
        signing.channel_message("U7", "a thread", ts="5.2", thread_ts="5.2"), event_id="Ev2"
    )
    reply = signing.event(
        signing.channel_message("U7", "well: fast reviews", ts="5.3", thread_ts="5.0"),
        event_id="Ev3",
    )
    assert examine(chatter, JSON, opens_form=OPENS_FORM).ignore
    assert examine(parent, JSON, opens_form=OPENS_FORM).ignore
    verdict = examine(reply, JSON, opens_form=OPENS_FORM)
    assert not verdict.ignore and verdict.arrival is not None
    assert verdict.arrival.lane == "slack:T1:U7"


async def test_channel_chatter_is_acknowledged_without_being_stored(slack_team: SlackTeam) -> None:
    body = signing.event(signing.channel_message("U7", "lunch?", ts="5.1"), event_id="Ev9")
    assert await slack_team.post(body, JSON) == 200
    assert await journal_rows(slack_team) == 0


async def journal_rows(team: SlackTeam) -> int:
    async with team.db.session() as session:
        return (await session.execute(select(func.count(JournalEntry.id)))).scalar_one()


async def test_a_signed_but_malformed_body_is_refused_and_stores_nothing(
    slack_team: SlackTeam,
) -> None:
    for body, content_type in [
        ("{not json", JSON),
        (urlencode({"payload": "{broken"}), FORM),
        ("%%%", FORM),
        ("[1]", JSON),
        ("null", JSON),
        ('{"type": 5}', JSON),
        ('{"type": "event_callback", "event": [1]}', JSON),
        (urlencode({"payload": "[1]"}), FORM),
        (urlencode({"payload": '{"type": "block_actions", "actions": [1]}'}), FORM),
        (urlencode({"payload": '{"type": "view_submission", "view": 1}'}), FORM),
    ]:
        status = await slack_team.post(body, content_type)
        assert 400 <= status < 500, body
    assert await journal_rows(slack_team) == 0


async def test_an_oversized_request_is_refused_before_anything_is_stored(
    slack_team: SlackTeam,
) -> None:
    body = signing.slash("/standup", "questions " + "x" * 2_000_000, user="UALICE")
    status = await slack_team.post(body, FORM)
    assert status == 413
    assert await journal_rows(slack_team) == 0


async def test_a_replayed_command_is_handled_once(slack_team: SlackTeam) -> None:
    body = signing.slash(
        "/standup",
        "status",
        user="UALICE",
        trigger_id="replayed",
        response_url=slack_team.slack.respond_url,
    )
    assert await slack_team.command("UALICE", "setup at 09:30") == 200
    for _ in range(2):
        assert await slack_team.post(body, FORM) == 200
    await slack_team.deliver()
    assert len(slack_team.private_replies()) == 1


async def test_an_unsigned_slack_body_that_is_not_utf8_is_a_4xx_not_a_500(
    slack_team: SlackTeam,
) -> None:
    response = await slack_team.http.post(
        "/slack/events", data=b"command=\xff", headers={"Content-Type": FORM}
    )
    assert 400 <= response.status < 500


async def test_a_stored_command_survives_a_failed_auth_test(slack_team: SlackTeam) -> None:
    """bolt answers an authorization failure (auth.test rate limited, or a 5xx) with a 200
    "please install" response; from_journal only retries on >= 500, so the acknowledged
    command is deleted from the journal unhandled and its author never hears back."""
    slack_team.slack.fail("auth.test", 429, retry_after=1)
    body = signing.slash(
        "/standup", "join", user="UALICE", response_url=slack_team.slack.respond_url
    )
    assert await slack_team.post(body, FORM) == 200
    await slack_team.deliver()
    assert await journal_rows(slack_team) == 1
    slack_team.clock.advance(timedelta(seconds=15))
    await slack_team.journal.drain()
    await slack_team.deliver()
    assert await journal_rows(slack_team) == 0
    assert slack_team.private_replies()


async def test_a_command_that_only_reads_is_answered_in_its_acknowledgement(
    slack_team: SlackTeam,
) -> None:
    assert await slack_team.command("UALICE", "setup at 09:30") == 200
    body = signing.slash("/standup", "status", user="UALICE")
    response = await slack_team.http.post(
        "/slack/events", data=body, headers=signing.headers(body, FORM)
    )
    assert response.status == 200
    assert "stand-up" in (await response.json())["text"].lower()
    assert await journal_rows(slack_team) == 0
    await slack_team.deliver()
    assert [c for c in slack_team.slack.calls if c.method == "response_url"] == []


async def test_a_read_waits_behind_the_same_persons_change_still_in_the_journal(
    slack_team: SlackTeam,
) -> None:
    add = signing.slash("/backlog", "add data p1 Clean labels", user="UALICE")
    listing = signing.slash(
        "/backlog", "list", user="UALICE", response_url=slack_team.slack.respond_url
    )
    for body in (add, listing):  # the journal's worker has not run in between
        response = await slack_team.http.post(
            "/slack/events", data=body, headers=signing.headers(body, FORM)
        )
        assert response.status == 200 and await response.read() == b""
    await slack_team.journal.drain()
    await slack_team.deliver()
    (reply,) = [c.args for c in slack_team.slack.calls if c.method == "response_url"]
    assert "Clean labels" in str(reply["blocks"])


async def test_a_read_not_answered_within_slacks_time_is_stored_and_answered_once_later(
    slack_team: SlackTeam, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_app, "AT_ONCE_WITHIN", 0.2)
    assert await slack_team.command("UALICE", "setup at 09:30") == 200
    body = signing.slash(
        "/standup", "status", user="UALICE", response_url=slack_team.slack.respond_url
    )
    async with slack_team.db.session() as session:  # the answer waits for the database
        if slack_team.db.dialect == "postgresql":
            await session.execute(text("LOCK TABLE ritual IN ACCESS EXCLUSIVE MODE"))
        else:
            await session.execute(text("SELECT 1"))
        sent = asyncio.ensure_future(
            slack_team.http.post("/slack/events", data=body, headers=signing.headers(body, FORM))
        )
        await asyncio.sleep(0.5)
        assert not sent.done() or await sent.result().read() == b""
    response = await sent
    assert response.status == 200 and await response.read() == b""
    await slack_team.journal.drain()
    await slack_team.deliver()
    assert len([r for r in slack_team.private_replies() if "Stand-up for" in r]) == 1


async def test_a_read_answered_at_once_is_not_also_answered_from_the_journal(
    slack_team: SlackTeam,
) -> None:
    assert await slack_team.command("UALICE", "setup at 09:30") == 200
    assert await slack_team.command("UALICE", "status") == 200
    assert await slack_team.stored() == 0
    await slack_team.deliver()
    assert len([r for r in slack_team.private_replies() if "Stand-up for" in r]) == 1


async def test_a_command_that_only_reads_is_stored_when_authorization_fails_and_answered_later(
    slack_team: SlackTeam,
) -> None:
    slack_team.slack.fail("auth.test", 429, retry_after=1)
    body = signing.slash(
        "/standup", "blockers", user="UALICE", response_url=slack_team.slack.respond_url
    )
    response = await slack_team.http.post(
        "/slack/events", data=body, headers=signing.headers(body, FORM)
    )
    assert response.status == 200
    assert await response.read() == b""  # not bolt's "please install" text
    assert await journal_rows(slack_team) == 1
    await slack_team.journal.drain()
    await slack_team.deliver()
    assert await journal_rows(slack_team) == 0
    (reply,) = [c.args for c in slack_team.slack.calls if c.method == "response_url"]
    assert "no stand-up in this channel" in reply["text"].lower()


async def test_commands_that_only_read_are_stored_once_too_many_wait_for_their_answer(
    slack_team: SlackTeam, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_app, "AT_ONCE_AT_MOST", 4)  # fewer requests than a client sends
    assert await slack_team.command("UALICE", "setup at 09:30") == 200
    bodies = [
        signing.slash(
            "/standup", "status", user=f"U{n:03d}", response_url=slack_team.slack.respond_url
        )
        for n in range(12)
    ]
    responses = await slack_team.post_while_busy(bodies)  # the answers wait for the ritual
    assert all(r.status == 200 for r in responses)
    inline = [r for r in responses if r.content_type == "application/json"]
    assert len(inline) == 4
    await slack_team.journal.drain()
    await slack_team.deliver()
    later = [c for c in slack_team.slack.calls if c.method == "response_url"]
    assert len(later) == len(bodies) - 4
