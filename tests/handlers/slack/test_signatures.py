"""Unsigned and malformed requests: refused with a 4xx and one log line, never a traceback."""

from __future__ import annotations

import time

import pytest

from storage.models import Ritual
from tests.handlers.slack import signing
from tests.handlers.slack.harness import FORM, JSON, SlackTeam
from tests.handlers.slack.test_events import count
from tests.logs import logged

SETUP = signing.slash("/standup", "setup at 09:30", user="UALICE")


def now() -> str:
    return str(int(time.time()))


def with_headers(**changes: str) -> dict[str, str]:
    """A correctly signed setup command's headers, some replaced by what a client sent."""
    headers = signing.headers(SETUP, FORM)
    names = {"timestamp": "X-Slack-Request-Timestamp", "signature": "X-Slack-Signature"}
    headers.update({names[key]: value for key, value in changes.items()})
    return headers


MALFORMED = {
    "timestamp-letters": with_headers(timestamp="abc"),
    "timestamp-empty": with_headers(timestamp=""),
    "timestamp-5000-digits": with_headers(timestamp="9" * 5000),
    "timestamp-negative": with_headers(timestamp="-1"),
    "timestamp-arabic-digits": with_headers(timestamp="١٧٠٠٠٠٠٠٠٠"),
    "signature-non-ascii": with_headers(signature="v0=" + "é" * 64),
    "signature-empty": with_headers(signature=""),
    "signature-uppercase": with_headers(
        signature=signing.headers(SETUP, FORM)["X-Slack-Signature"].upper()
    ),
    "signature-v1": with_headers(signature="v1=" + "0" * 64),
}


@pytest.mark.parametrize("headers", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_signature_header_is_refused_quietly(
    slack_team: SlackTeam, caplog: pytest.LogCaptureFixture, headers: dict[str, str]
) -> None:
    with logged(caplog) as logs:
        assert await slack_team.send(SETUP, headers) == 401
    assert logs.tracebacks == []
    assert len(logs.lines) == 1
    assert await count(slack_team.db, Ritual) == 0


async def test_a_body_that_is_not_utf8_with_a_current_timestamp_is_refused_quietly(
    slack_team: SlackTeam, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": now(),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    with logged(caplog) as logs:
        assert await slack_team.send(b"command=/standup&text=\xff\xfe", headers) == 401
    assert logs.tracebacks == []
    assert len(logs.lines) == 1


async def test_a_signed_body_that_is_not_utf8_is_a_400(
    slack_team: SlackTeam, caplog: pytest.LogCaptureFixture
) -> None:
    body = b"command=/standup&text=\xff\xfe"
    headers = signing.headers(body, FORM)
    with logged(caplog) as logs:
        assert await slack_team.send(body, headers) == 400
    assert logs.tracebacks == []
    assert await slack_team.stored() == 0


async def test_why_a_signature_failed_is_logged_at_debug_level_and_not_told(
    slack_team: SlackTeam, caplog: pytest.LogCaptureFixture
) -> None:
    with logged(caplog) as logs:
        response = await slack_team.http.post(
            "/slack/events", data=SETUP, headers=with_headers(timestamp="abc")
        )
    assert await response.json() == {"error": "invalid request"}
    [refused] = [e for e in logs.events if e["event"] == "slack request refused"]
    assert refused["log_level"] == "debug"
    assert "timestamp" in refused["reason"]


async def test_a_signed_json_body_sent_as_a_form_is_refused_not_handed_to_bolt(
    slack_team: SlackTeam,
) -> None:
    """bolt parses any body that starts with ``{`` as JSON whatever its content type: the
    door must not let through, unchecked, a body it read differently."""
    body = signing.event(signing.dm("UALICE", "hi", ts="1.1"), event_id="EvForm")
    assert await slack_team.post(body, FORM) == 400
    assert await slack_team.stored() == 0
    assert slack_team.calls_to_slack() == []


async def test_a_command_whose_fields_appear_twice_is_refused(slack_team: SlackTeam) -> None:
    """The door read the first ``text``, bolt the last: the two must never disagree."""
    body = SETUP + "&text=export"
    assert await slack_team.post(body, FORM) == 400
    assert await slack_team.stored() == 0


@pytest.mark.parametrize("content_type", [JSON, FORM])
async def test_a_body_nested_too_deeply_is_a_400(slack_team: SlackTeam, content_type: str) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    body = nested if content_type == JSON else "payload=" + nested
    assert await slack_team.post(body, content_type) == 400
