"""Whatever arrives at the Teams door, headers or body: a 2xx or a 4xx, never a 5xx or a
traceback, and nothing stored for a request that is refused."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from handlers.teams.adapter import TeamsAuth
from storage.db import Database
from tests.handlers.teams import activities as act
from tests.handlers.teams.fake_connector import KID
from tests.handlers.teams.harness import APP_ID, TeamsTeam, running
from tests.logs import logged

fuzzed = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "\x00",
            "a\ud800b",
            "x" * 400,
            "29:alice",
            "a:1on1-29:alice",
            "19:team-general@thread.tacv2",
            "https://smba.example/",
            "message",
            "invoke",
            "personal",
            "channel",
            "mention",
            "adaptiveCard/action",
            "standup.setup",
            "standup status",
        ]
    ),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)

# Every field the edge reads, and a few it does not.
READ = [
    "type",
    "id",
    "name",
    "text",
    "value",
    "replyToId",
    "localTimezone",
    "locale",
    "channelId",
    "serviceUrl",
    "action",
    "entities",
    "membersAdded",
    "from",
    "from.id",
    "from.name",
    "from.role",
    "recipient",
    "recipient.id",
    "conversation",
    "conversation.id",
    "conversation.conversationType",
    "conversation.tenantId",
    "conversation.isGroup",
    "conversation.name",
    "channelData",
    "channelData.tenant",
    "channelData.tenant.id",
    "channelData.team",
    "channelData.team.id",
    "channelData.channel",
    "channelData.channel.id",
    "channelData.channel.name",
    "value.action",
    "value.action.data",
    "value.action.data.form_id",
    "value.action.data.action_id",
    "value.action.data.value",
    "value.action.data.at",
    "value.form_id",
    "value.action_id",
    "timestamp",
    "attachments",
    "channelData.legacy",
]

Sample = Callable[[str], dict[str, Any]]
SAMPLES: list[Sample] = [
    lambda url: act.personal(url, "29:alice", "standup status", tz="Europe/Paris"),
    lambda url: act.in_channel(url, "29:alice", "standup status"),
    lambda url: act.in_channel(url, "29:bob", "well: fast reviews", thread="1700000000000"),
    lambda url: act.submitted(url, "29:alice", {"action_id": "standup.skip", "value": "1"}),
    lambda url: act.executed(url, "29:alice", "submit", {"form_id": "standup.setup"}),
    lambda url: act.installed_personally(url, "29:carol"),
    act.bot_added_to_team,
]


@settings(fuzzed, max_examples=200)
@given(
    sample=st.sampled_from(SAMPLES),
    changes=st.lists(st.tuples(st.sampled_from(READ), texts | json_values), min_size=1, max_size=2),
)
async def test_an_activity_with_any_field_changed_is_handled_or_refused(
    teams: TeamsTeam,
    caplog: pytest.LogCaptureFixture,
    sample: Sample,
    changes: list[tuple[str, Any]],
) -> None:
    activity = sample(teams.service_url)
    for path, value in changes:
        activity = act.changed(activity, path, value)
    before = await teams.stored()
    with logged(caplog) as logs:
        status = await teams.post_json(json.dumps(activity).encode())
    event(f"answered {status}")
    assert status in (200, 400)
    assert logs.tracebacks == []
    assert await teams.left_unhandled() == 0, "acknowledged but not handled"
    if status == 400:
        assert await teams.stored() == before


@fuzzed
@given(body=st.one_of(st.binary(max_size=200), json_values.map(json.dumps).map(str.encode)))
async def test_any_body_gets_a_4xx_and_stores_nothing(
    teams: TeamsTeam, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    with logged(caplog) as logs:
        status = await teams.post_json(body)
    assert status == 400
    assert logs.tracebacks == []
    assert await teams.stored() == 0


@pytest.fixture
async def secured(db: Database) -> AsyncIterator[TeamsTeam]:
    async with running(db, auth=TeamsAuth(app_id=APP_ID, password="secret")) as team:
        yield team


def segment(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


header_bytes = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120).map(str.encode),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cc"]), max_size=60).map(str.encode),
    st.binary(max_size=120).filter(lambda b: b"\r" not in b and b"\n" not in b),
)
jwt_fields = st.dictionaries(
    st.sampled_from(["alg", "kid", "typ", "x5t", "iss", "aud", "exp", "nbf", "serviceurl", "ver"]),
    json_values,
    max_size=5,
)


@st.composite
def authorizations(draw: st.DrawFn) -> bytes:
    """An Authorization value: bytes, a JWT of any JSON, or a real one with fields changed."""
    kind = draw(st.sampled_from(["bytes", "unsigned", "signed"]))
    if kind == "bytes":
        return draw(header_bytes)
    header = {"alg": "RS256", "typ": "JWT", "kid": KID, **draw(jwt_fields)}
    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, **draw(jwt_fields)}
    if kind == "unsigned":
        parts = [segment(json.dumps(header).encode()), segment(json.dumps(claims).encode())]
        return b"Bearer " + b".".join([*parts, draw(header_bytes.map(segment))])
    return b"SIGN " + json.dumps([header, claims]).encode()


@fuzzed
@given(
    authorization=authorizations(),
    extra=st.none() | st.tuples(header_bytes, header_bytes),
)
async def test_any_authorization_is_refused_without_a_5xx_or_a_trace(
    secured: TeamsTeam,
    caplog: pytest.LogCaptureFixture,
    authorization: bytes,
    extra: tuple[bytes, bytes] | None,
) -> None:
    if authorization.startswith(b"SIGN "):
        header, claims = json.loads(authorization.removeprefix(b"SIGN "))
        defaults = secured.connector.claims(audience=APP_ID, service_url=secured.service_url)
        token = secured.connector.sign(header, {**defaults, **claims})
        authorization = f"Bearer {token}".encode()
    headers = [b"Authorization: " + authorization]
    if extra is not None:
        headers.append(b"X-" + extra[0] + b": " + extra[1])
    body = json.dumps(act.personal(secured.service_url, "29:alice", "standup status")).encode()
    before = await secured.stored()
    with logged(caplog) as logs:
        status = await secured.post_raw(headers, body)
    event(f"answered {status}")
    assert status in (200, 400, 401)
    assert logs.tracebacks == []
    if status != 200:
        assert await secured.stored() == before
