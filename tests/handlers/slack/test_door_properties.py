"""Properties of the door over any headers and any body shape, through the real endpoint.

Kept to a couple of hundred examples each, since they run in ``make test``.
"""

from __future__ import annotations

import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from structlog.testing import capture_logs

from handlers.slack.door import SLACK_ID, lane_of, sender
from storage.models import JournalDeadLetter
from tests.handlers.slack import signing
from tests.handlers.slack.harness import FORM, JSON, SlackTeam

QUICK = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# What an HTTP client can put in a header: any text but control characters and surrogates.
header_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["UBOB", "T1", "T2", "1.5", "standup.resolve#0", "\x00", "\ud800"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)

TEMPLATES: list[tuple[str, str]] = [
    (signing.event(signing.dm("UBOB", "an answer", ts="1.1"), event_id="EvP"), JSON),
    (
        signing.event(
            signing.channel_message("UBOB", "a reply", ts="1.2", thread_ts="1.0"), event_id="EvT"
        ),
        JSON,
    ),
    (
        signing.event({"type": "app_home_opened", "user": "UBOB", "tab": "home"}, event_id="EvH"),
        JSON,
    ),
    (signing.slash("/standup", "status", user="UBOB"), FORM),
    (signing.button("standup.resolve#0", "1", user="UBOB"), FORM),
    (signing.submission("standup.setup", "C1", {"at": "09:30"}, user="UBOB"), FORM),
]


def _places(found: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a field or list item of a request."""
    paths: list[tuple[Any, ...]] = []
    items = found.items() if isinstance(found, dict) else enumerate(found)
    for key, value in items:
        paths.append((*prefix, key))
        if isinstance(value, dict | list):
            paths.extend(_places(value, (*prefix, key)))
    return paths


def _follow(found: Any, path: tuple[Any, ...]) -> Any:
    """The container of the field at ``path``, or ``None`` once an earlier change removed it."""
    node = found
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


@st.composite
def signed_bodies(draw: st.DrawFn) -> tuple[str, str]:
    """A real request with one to three fields replaced, removed or added, sent as JSON or as
    a form whichever it is."""
    body, content_type = draw(st.sampled_from(TEMPLATES))
    found = signing.carried(body)
    is_form = "command" in found
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from([*_places(found), ("added",)]))
        node, key = _follow(found, path), path[-1]
        value = draw(header_text if is_form else json_values)
        if isinstance(node, dict):
            if key in node and draw(st.booleans()):
                del node[key]
            else:
                node[key] = value
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node[key] = value
    reshaped = signing.reshaped(body, lambda carried: (carried.clear(), carried.update(found)))
    return reshaped, draw(st.sampled_from([content_type, content_type, FORM, JSON]))


async def set_aside(team: SlackTeam) -> int:
    async with team.db.session() as session:
        stmt = select(func.count()).select_from(JournalDeadLetter)
        return (await session.execute(stmt)).scalar_one()


@QUICK
@given(request=signed_bodies())
async def test_a_signed_body_of_any_shape_is_refused_or_handled_never_a_5xx(
    slack_team: SlackTeam, request: tuple[str, str]
) -> None:
    body, content_type = request
    with capture_logs() as events:
        response = await slack_team.http.post(
            "/slack/events", data=body, headers=signing.headers(body, content_type)
        )
        assert response.status < 500
        if response.status != 200:
            assert await slack_team.stored() == 0
        await slack_team.journal.drain()
    assert await slack_team.stored() == 0
    assert await set_aside(slack_team) == 0
    failures = [e for e in events if e["log_level"] in ("error", "critical")]
    assert failures == [], failures


@QUICK
@given(
    stamp=st.one_of(
        header_text, st.integers().map(str), st.just(str(int(time.time()))), st.just("9" * 5000)
    ),
    signature=st.one_of(header_text, st.just("v0=" + "0" * 64), header_text.map("v0=".__add__)),
    body=st.one_of(st.binary(max_size=200), st.sampled_from([t[0] for t in TEMPLATES])),
    content_type=st.sampled_from([FORM, JSON, "", "text/plain"]),
)
async def test_an_unsigned_request_is_a_401_whatever_its_headers_and_body(
    slack_team: SlackTeam, stamp: str, signature: str, body: str | bytes, content_type: str
) -> None:
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }
    response = await slack_team.http.post("/slack/events", data=body, headers=headers)
    assert response.status == 401
    assert await slack_team.stored() == 0


slack_ids = st.from_regex(SLACK_ID, fullmatch=True)


@given(team=slack_ids, user=slack_ids)
def test_a_lane_names_back_the_workspace_and_person_it_was_made_for(team: str, user: str) -> None:
    assert sender(lane_of(team, user)) == (team, user)


@given(lane=st.text(max_size=40))
def test_a_lane_of_no_slack_sender_names_nobody(lane: str) -> None:
    found = sender(lane)
    assert found is None or (lane.startswith("slack:") and all(found))
