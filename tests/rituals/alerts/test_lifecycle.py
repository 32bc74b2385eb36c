"""An alert's life in the channel: one message per group, updated in place as alerts fire
again and resolve; retries change nothing; acknowledging and escalating."""

from __future__ import annotations

from datetime import timedelta

from rituals.alerts.incidents import ESCALATE_AFTER
from tests.handlers.alerts.payloads import alertmanager, am_alert, grafana, plain
from tests.helpers import CHANNEL, Team
from tests.rituals.alerts.support import (
    ANA,
    BEN,
    CAL,
    alerts,
    connect,
    group_posts,
    send,
)
from tests.rituals.retro.support import snapshot


async def test_an_alertmanager_group_is_one_message_updated_in_place(team: Team) -> None:
    token = await connect(team)
    quality = am_alert("AucDrop", model="churn", severity="critical", région="eu-ouest")
    latency = am_alert("P95High", model="churn", stage="résumé-β")
    reply = await send(team, token, alertmanager(quality, latency))
    assert reply.status == 200
    assert reply.body["new"] == 2 and reply.body["stored"] == 2 and reply.body["alerts"] == [1, 2]
    first = group_posts(await team.deliver())
    assert [p.op for p in first] == ["post"]
    shown = first[0].text
    assert shown.startswith("Alert: alertname=ModelQuality")
    assert "🔥 *#1 AucDrop* [critical]" in shown and "région=eu-ouest" in shown
    assert "stage=résumé-β" in shown
    assert [b.label for b in first[0].message.buttons] == ["Acknowledge #1", "Acknowledge #2"]

    # Alertmanager repeats the group: nothing new, nothing posted.
    again = await send(team, token, alertmanager(quality, latency))
    assert again.body["duplicates"] == 2 and again.body["stored"] == 0
    assert await team.deliver() == []

    # One resolves: the same message says so, with how long it lasted.
    team.clock.set(team.clock.now() + timedelta(minutes=42))
    resolved = dict(latency, status="resolved")
    reply = await send(team, token, alertmanager(quality, resolved))
    assert reply.body["resolved"] == 1 and reply.body["duplicates"] == 1
    (update,) = group_posts(await team.deliver())
    assert update.op == "update" and update.thread == first[0].ref
    assert "✅ *#2 P95High* [warning] — resolved after 42 min" in update.text
    assert [b.label for b in update.message.buttons] == ["Acknowledge"]


async def test_a_storm_posts_one_message_per_group(team: Team) -> None:
    token = await connect(team)
    for group in range(3):
        batch = [am_alert(f"Drift{i}", model=f"m{group}", shard=str(i)) for i in range(40)]
        reply = await send(team, token, alertmanager(*batch, group=f"G{group}"))
        assert reply.body["new"] == 40
    posted = group_posts(await team.deliver())
    assert [p.op for p in posted] == ["post"] * 3
    assert all("… and" in p.text and "more" in p.text for p in posted)
    assert len(await alerts(team.runtime.db)) == 120


async def test_changes_before_the_post_goes_out_rewrite_it_instead_of_queueing_more(
    team: Team,
) -> None:
    token = await connect(team)
    await send(team, token, plain(value=0.71, threshold=0.8, severity="warning"))
    for value in (0.70, 0.69, 0.68):
        await send(team, token, plain(value=value, threshold=0.8, severity="warning"))
    (post,) = group_posts(await team.deliver())
    assert "#1 churn auc = 0.68 (threshold 0.8)" in post.text and "4×" in post.text


async def test_a_plain_alert_fires_again_with_count_and_last_value(team: Team) -> None:
    token = await connect(team)
    await send(team, token, plain(value=0.71, threshold=0.8, message="AUC fell"))
    await team.deliver()
    team.clock.set(team.clock.now() + timedelta(minutes=5))
    reply = await send(team, token, plain(value=0.69, threshold=0.8, message="AUC fell"))
    assert reply.body["updated"] == 1
    (update,) = group_posts(await team.deliver())
    assert "= 0.69" in update.text and "2×, last 09:05" in update.text
    # Another label set is another alert, in the model's same message.
    reply = await send(
        team, token, plain(value=0.5, threshold=0.8, message="x", labels={"segment": "新"})
    )
    assert reply.body["new"] == 1
    (update,) = group_posts(await team.deliver())
    assert update.op == "update" and "#2 churn auc = 0.5" in update.text


async def test_grafana_alerts_fire_and_resolve(team: Team) -> None:
    token = await connect(team)
    a = am_alert("DriftHigh", model="ranker", feature="âge")
    b = am_alert("DriftHigh", model="ranker", feature="pays")
    reply = await send(team, token, grafana(a, b))
    assert reply.body["new"] == 2
    (post,) = group_posts(await team.deliver())
    assert "DriftHigh = 0.42" in post.text and "grafana.example/d/abc" in post.text
    team.clock.set(team.clock.now() + timedelta(hours=2, minutes=3))
    reply = await send(team, token, grafana(dict(a, status="resolved"), dict(b, status="resolved")))
    assert reply.body["resolved"] == 2
    (update,) = group_posts(await team.deliver())
    assert update.text.startswith("Alert: alertname=DriftHigh (resolved)")
    assert "resolved after 2 h 3 min" in update.text and not update.message.buttons
    # Fired again later: a new incident, a new message.
    await send(team, token, grafana(dict(a, startsAt="2030-01-07T12:00:00Z")))
    (fresh,) = group_posts(await team.deliver())
    assert fresh.op == "post" and "#3 DriftHigh" in fresh.text


async def test_resolving_what_never_fired_stores_nothing(team: Team) -> None:
    token = await connect(team)
    before = await snapshot(team.runtime.db)
    reply = await send(team, token, alertmanager(am_alert("Gone", status="resolved")))
    assert reply.status == 200 and reply.body["unknown_resolved"] == 1
    assert await snapshot(team.runtime.db) == before


async def test_acknowledge_by_button_and_command_records_who_and_stops_escalation(
    team: Team,
) -> None:
    token = await connect(team)
    await team.type(BEN, "help")
    await send(team, token, alertmanager(am_alert("A", model="m"), am_alert("B", model="m")))
    await team.deliver()
    reply = await team.bot.action(BEN, CHANNEL, "alerts.ack", "1")
    assert reply is not None and "Ben Ode acknowledged #1 A" in reply.message.plain_text()
    assert "acknowledged by Ben Ode" in group_posts(await team.deliver())[-1].text
    assert "was acknowledged by Ben Ode" in await team.type(CAL, "alerts ack 1")
    assert "no alert #9" in await team.type(CAL, "alerts ack 9")

    await team.advance(ESCALATE_AFTER + timedelta(minutes=1))
    sent = await team.deliver()
    escalations = [p for p in sent if p.text.startswith("Escalated to")]
    assert [p.text.splitlines()[0] for p in escalations] == [
        "Escalated to Ana: #2 unacknowledged for 30 min."
    ]
    assert [p.to for p in sent if p.op == "direct"] == ["UANA"]
    # Once only.
    await team.advance(timedelta(minutes=10))
    assert not [p for p in await team.deliver() if p.text.startswith("Escalated")]


async def test_escalation_goes_to_the_on_call(team: Team) -> None:
    token = await connect(team)
    await team.type(CAL, "help")
    assert "Cal is on call" in await team.type(ANA, "alerts oncall @cal")
    await send(team, token, plain(value=1, threshold=2, severity="critical"))
    await team.advance(ESCALATE_AFTER - timedelta(minutes=1))
    assert not [p for p in await team.deliver() if p.op == "direct"]
    await team.advance(timedelta(minutes=2))
    (dm,) = [p for p in await team.deliver() if p.op == "direct"]
    assert dm.to == "UCAL" and [b.action_id for b in dm.message.buttons] == ["alerts.ack"]


async def test_another_channels_alert_cannot_be_acknowledged_here(team: Team) -> None:
    from tests.rituals.retro.support import OTHER_CHANNEL, say_in

    token = await connect(team)
    await send(team, token, plain(value=1, threshold=2, severity="warning"))
    assert "no alert #1 here" in await say_in(team, OTHER_CHANNEL, BEN, "alerts ack 1")
    assert (await alerts(team.runtime.db))[0].acked_at is None


async def test_one_request_naming_an_alert_twice_fires_and_resolves_it_once(team: Team) -> None:
    token = await connect(team)
    firing = am_alert("Twice", model="m")
    reply = await send(team, token, alertmanager(firing, firing, dict(firing, status="resolved")))
    assert reply.status == 200
    assert (reply.body["new"], reply.body["duplicates"], reply.body["resolved"]) == (1, 1, 1)
    again = await send(team, token, alertmanager(firing, dict(firing, startsAt="later")))
    assert (again.body["new"], again.body["updated"]) == (1, 1)
    assert [a.status for a in await alerts(team.runtime.db)] == ["resolved", "firing"]
