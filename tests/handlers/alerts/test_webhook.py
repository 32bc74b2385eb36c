"""`POST /hooks/alerts/{token}` over HTTP: what each answer means, and that nothing a
sender can post makes it fail (never a 500) or leaves half a change behind."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from handlers.hooks import MAX_BODY, RateLimit
from tests.handlers.alerts.harness import serving
from tests.handlers.alerts.payloads import alertmanager, am_alert, grafana, plain
from tests.handlers.alerts.shapes import JSON_VALUES, reshaped
from tests.helpers import Team
from tests.logs import logged
from tests.rituals.alerts.support import alerts, connect, group_posts
from tests.rituals.retro.support import snapshot


async def test_the_three_bodies_are_told_apart_and_stored_before_the_answer(team: Team) -> None:
    token = await connect(team)
    async with serving(team) as http:
        for body, source in (
            (plain(value=0.7, threshold=0.8, severity="warning"), "plain"),
            (alertmanager(am_alert("AucDrop", model="churn")), "alertmanager"),
            (grafana(am_alert("DriftHigh", model="ranker")), "grafana"),
        ):
            response = await http.post(f"/hooks/alerts/{token}", json=body)
            assert response.status == 200, await response.text()
            assert (await response.json())["new"] == 1
            assert (await alerts(team.runtime.db))[-1].source == source
    assert len(group_posts(await team.deliver())) == 3


async def test_bad_bodies_are_400_with_the_reason_and_store_nothing(team: Team) -> None:
    token = await connect(team)
    before = await snapshot(team.runtime.db)
    cases: list[tuple[Any, str]] = [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"value": NaN, "model": "m", "metric": "x"}', "not JSON"),
        (json.dumps({"hello": 1}).encode(), "unrecognised body"),
        (json.dumps(dict(alertmanager(am_alert("A")), version="3")).encode(), "version '3'"),
        (json.dumps(plain(value="high")).encode(), "value"),
        (json.dumps({"model": "m", "metric": "x"}).encode(), "needs a value"),
        (json.dumps(plain(model="a\u0000b", threshold=1)).encode(), "NUL"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (json.dumps(alertmanager({"status": "firing"})).encode(), "alerts.0.labels"),
    ]
    async with serving(team) as http:
        for raw, reason in cases:
            response = await http.post(f"/hooks/alerts/{token}", data=raw)
            assert response.status == 400, raw[:40]
            assert reason in (await response.json())["error"], raw[:40]
    assert await snapshot(team.runtime.db) == before


async def test_a_bad_token_is_404_and_a_wrong_method_405(team: Team) -> None:
    token = await connect(team)
    async with serving(team) as http:
        response = await http.post(f"/hooks/alerts/{token[:-2]}", json=plain(threshold=1))
        assert (response.status, await response.json()) == (404, {"error": "not found"})
        assert (await http.get(f"/hooks/alerts/{token}")).status == 405
    assert await alerts(team.runtime.db) == []


async def test_a_body_over_the_limit_is_413(team: Team) -> None:
    token = await connect(team)
    async with serving(team) as http:
        big = json.dumps(plain(message="x" * (MAX_BODY + 10), threshold=1))
        assert (await http.post(f"/hooks/alerts/{token}", data=big)).status == 413

        async def chunks() -> Any:
            for _ in range(MAX_BODY // 1024 + 2):
                yield b" " * 1024

        assert (await http.post(f"/hooks/alerts/{token}", data=chunks())).status == 413
    assert await alerts(team.runtime.db) == []


async def test_a_sender_past_its_rate_gets_429_with_retry_after(team: Team) -> None:
    token = await connect(team)
    now = [0.0]
    limit = RateLimit(rate=1, burst=3, clock=lambda: now[0])
    async with serving(team, limit) as http:
        statuses = []
        for value in range(5):
            response = await http.post(
                f"/hooks/alerts/{token}", json=plain(value=value, threshold=9)
            )
            statuses.append(response.status)
        assert statuses == [200, 200, 200, 429, 429]
        assert response.headers["Retry-After"] == "1"
        now[0] += 1.0
        ok = await http.post(f"/hooks/alerts/{token}", json=plain(value=7, threshold=9))
        assert ok.status == 200
    (alert,) = await alerts(team.runtime.db)
    assert alert.count == 4


async def test_the_log_names_the_route_never_the_token(
    team: Team, caplog: pytest.LogCaptureFixture
) -> None:
    token = await connect(team)
    with logged(caplog) as logs:
        async with serving(team) as http:
            await http.post(f"/hooks/alerts/{token}", json=plain(threshold=1))
            await http.post(f"/hooks/alerts/{token}x", json=plain(threshold=1))
    assert logs.requests == [("/hooks/alerts/{token}", 200), ("/hooks/alerts/{token}", 404)]
    assert not any(token in line for line in logs.lines)


QUICK = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def _consistent(team: Team) -> None:
    """No half-written change: every alert has its group, every open group a message."""
    for alert in await alerts(team.runtime.db):
        assert alert.group_id is not None and alert.last_event
        assert (alert.open_key is None) == (alert.status == "resolved")


@QUICK
@given(body=st.one_of(reshaped(), JSON_VALUES))
async def test_any_json_is_stored_whole_or_refused_whole_never_a_500(team: Team, body: Any) -> None:
    token = await connect(team)
    before = await snapshot(team.runtime.db)
    async with serving(team) as http:
        response = await http.post(f"/hooks/alerts/{token}", json=body)
        assert response.status in (200, 400), await response.text()
        assert "error" in await response.json() or response.status == 200
    if response.status == 400:
        assert await snapshot(team.runtime.db) == before
    await _consistent(team)


@QUICK
@given(raw=st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
async def test_any_bytes_are_refused_or_stored_never_a_500(team: Team, raw: bytes) -> None:
    token = await connect(team)
    async with serving(team) as http:
        response = await http.post(f"/hooks/alerts/{token}", data=raw)
        assert response.status in (200, 400), await response.text()
    await _consistent(team)


@QUICK
@given(token=st.text(max_size=60).filter(lambda t: "/" not in t and t.strip()))
async def test_any_other_token_posts_nothing(team: Team, token: str) -> None:
    await connect(team)
    async with serving(team) as http:
        response = await http.post(
            f"/hooks/alerts/{quote(token, safe='')}", json=plain(threshold=1)
        )
        assert response.status in (404, 405), response.status
    assert await alerts(team.runtime.db) == []


async def test_an_unknown_token_is_404_before_its_body_is_read(team: Team) -> None:
    token = await connect(team)
    async with serving(team) as http:
        for raw in (b"not json", b"{" * 5000, b" " * (MAX_BODY + 10)):
            response = await http.post(f"/hooks/alerts/{token}x", data=raw)
            assert response.status == 404, raw[:20]

        async def endless() -> Any:
            for _ in range(MAX_BODY // 1024 + 2):
                yield b" " * 1024

        assert (await http.post(f"/hooks/alerts/{token}y", data=endless())).status == 404
        assert (await http.post(f"/hooks/alerts/{token}", data=b"not json")).status == 400


async def test_random_tokens_share_one_budget_per_address(team: Team) -> None:
    token = await connect(team)
    now = [0.0]
    strangers = RateLimit(rate=1, burst=3, clock=lambda: now[0])
    async with serving(team, strangers=strangers) as http:
        statuses = []
        for guess in range(5):
            response = await http.post(f"/hooks/alerts/guess{guess}", json=plain(threshold=1))
            statuses.append(response.status)
        assert statuses == [404, 404, 404, 429, 429]
        assert response.headers["Retry-After"] == "1"
        now[0] += 1.0
        assert (await http.post(f"/hooks/alerts/{token}", json=plain(threshold=1))).status == 200
        assert (await http.post("/hooks/alerts/guess9", json=plain(threshold=1))).status == 404
        assert (await http.post("/hooks/alerts/guess10", json=plain(threshold=1))).status == 429
    assert len(await alerts(team.runtime.db)) == 1


async def test_any_database_error_is_503_with_retry_after(team: Team) -> None:
    token = await connect(team)
    engine = team.runtime.db.engine
    async with engine.begin() as conn:  # PostgreSQL: a ProgrammingError, not "operational"
        await conn.execute(text("ALTER TABLE alert_rule RENAME TO alert_rule_away"))
    try:
        async with serving(team) as http:
            response = await http.post(f"/hooks/alerts/{token}", json=plain(value=0.5))
            assert response.status == 503, await response.text()
            assert response.headers["Retry-After"] == "5"
            assert "retry" in (await response.json())["error"]
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE alert_rule_away RENAME TO alert_rule"))
