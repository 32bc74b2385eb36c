"""Rules over raw values, muting a model, and `alerts list`."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.kinds import registry
from rituals.alerts import grammar as g
from rituals.commands import Help, Usage
from rituals.commands.tokens import MAX_ID, button_id
from tests.handlers.alerts.payloads import plain
from tests.helpers import Team
from tests.rituals.alerts.support import ANA, alerts, connect, group_posts, send


async def test_a_rule_fires_after_its_duration_and_resolves(team: Team) -> None:
    token = await connect(team)
    reply = await team.type(ANA, "alerts rule add churn auc < 0.75 for 10m")
    assert "Rule R1: churn auc < 0.75 for 10 min" in reply
    assert (await send(team, token, plain(value=0.8))).body["stored"] == 0
    assert (await send(team, token, plain(value=0.7))).body["stored"] == 0
    team.clock.set(team.clock.now() + timedelta(minutes=5))
    assert (await send(team, token, plain(value=0.69))).body["stored"] == 0
    team.clock.set(team.clock.now() + timedelta(minutes=5))
    fired = await send(team, token, plain(value=0.68))
    assert fired.body["new"] == 1 and fired.body["metrics"] == 1
    (post,) = group_posts(await team.deliver())
    assert "#1 churn auc < 0.75 = 0.68 (threshold 0.75)" in post.text
    # The same value again is a retry.
    assert (await send(team, token, plain(value=0.68))).body["duplicates"] == 1
    team.clock.set(team.clock.now() + timedelta(minutes=15))
    resolved = await send(team, token, plain(value=0.9))
    assert resolved.body["resolved"] == 1
    (update,) = group_posts(await team.deliver())
    assert "= 0.9 (threshold 0.75)* [warning] — resolved after 15 min" in update.text


async def test_a_raw_value_without_rules_is_received_and_stores_nothing(team: Team) -> None:
    token = await connect(team)
    reply = await send(team, token, plain(value=0.3))
    assert reply.status == 200 and reply.body["metrics"] == 1 and reply.body["stored"] == 0
    assert await alerts(team.runtime.db) == []


async def test_a_muted_model_is_stored_and_counted_not_posted(team: Team) -> None:
    token = await connect(team)
    assert "churn is muted until 2030-01-07 11:00 UTC" in await team.type(
        ANA, "alerts mute churn 2h"
    )
    reply = await send(team, token, plain(value=0.1, threshold=0.5, severity="critical"))
    assert reply.body["new"] == 1 and reply.body["muted"] == 1
    assert group_posts(await team.deliver()) == []
    listed = await team.type(ANA, "alerts list")
    assert "*Muted*" in listed and "churn until 2030-01-07 11:00 UTC" in listed
    # Past the mute, the model's alerts are posted again.
    team.clock.set(team.clock.now() + timedelta(hours=3))
    await send(team, token, plain(model="churn", metric="f1", value=0.1, threshold=0.5))
    (post,) = group_posts(await team.deliver())
    assert "churn f1" in post.text and "#1" not in post.text


async def test_list_shows_firing_acknowledged_and_rules(team: Team) -> None:
    assert "No alerts are connected" in await team.type(ANA, "alerts list")
    token = await connect(team)
    await team.type(ANA, "alerts rule add ranker p95_ms >= 250")
    await send(team, token, plain(value=1, threshold=2, severity="warning"))
    await send(team, token, plain(model="ranker", metric="ndcg", value=1, threshold=2))
    await team.type(ANA, "alerts ack 2")
    listed = await team.type(ANA, "alerts list")
    assert "*Firing*\n• #1 churn auc" in listed
    assert "*Acknowledged*\n• #2 ranker ndcg" in listed and "acknowledged by Ana" in listed
    assert "*Rules*\n• R1 ranker p95_ms >= 250" in listed


def test_rule_grammar_reads_for_durations() -> None:
    parse = registry().grammar.parse
    assert parse("alerts rule add churn auc < 0.7 for 1h30m") == g.AlertsRuleAdd(
        "churn", "auc", "<", 0.7, 90
    )
    assert parse("alerts ack #12") == g.AlertsAck(12)
    assert parse("alerts oncall none") == g.AlertsOncall(None)
    assert parse("alerts oncall <@U123>") == g.AlertsOncall("U123")
    for bad in (
        "alerts rule add churn auc < 0.7 for",
        "alerts rule add m a < 1 every 2m",
        "alerts ack",
        "alerts ack x",
        "alerts oncall @a @b",
    ):
        assert isinstance(parse(bad), Usage), bad


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_any_alerts_line_is_a_command_of_the_kind_or_says_why(tail: str) -> None:
    result = registry().grammar.parse("alerts " + tail)
    if isinstance(result, Usage):
        assert result.error
    elif not isinstance(result, Help):
        assert type(result).__module__ == g.__name__, result
        if isinstance(result, g.AlertsRuleAdd):
            assert result.op in g.OPS and 0 <= result.for_minutes <= 30 * 24 * 60


@given(st.integers(min_value=0, max_value=9_999_999_999))
def test_button_ids_read_back_when_they_can_name_a_row(number: int) -> None:
    assert button_id(str(number)) == (number if 1 <= number <= MAX_ID else None)


@given(st.text(min_size=11) | st.text().filter(lambda v: not (v.isascii() and v.isdigit())))
def test_anything_else_is_no_button_id(value: str) -> None:
    assert button_id(value) is None or (len(value) <= 10 and value.isdigit())
