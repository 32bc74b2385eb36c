"""Whose alerts a person reaches: in a channel, that channel's; in a private chat, only
those of channels whose alerts they answer for (lead, on-call, escalation target, admin).
Handing an alert on takes its acknowledger or someone who may change the channel's alerts,
and never makes anyone a lead of the ritual it lands in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from rituals.identity import Actor
from storage.models import Ritual
from tests.handlers.alerts.payloads import alertmanager, am_alert, plain
from tests.helpers import CHANNEL, Team, person
from tests.rituals.alerts.support import ANA, BEN, CAL, MONDAY, connect, send
from tests.rituals.retro.support import OTHER_CHANNEL, known, press, say_in, snapshot

DAN = person("UDAN", name="Dan")


async def _critical_in_other_channel(team: Team) -> str:
    """Ana connects C2 and leads its alerts; one critical alert (#1) fires there."""
    reply = await say_in(team, OTHER_CHANNEL, ANA, "alerts connect")
    token = reply.split("/hooks/alerts/")[1].split()[0]
    critical = am_alert("AucDrop", model="churn", severity="critical")
    await send(team, token, alertmanager(critical))
    return token


async def test_from_a_private_chat_a_stranger_reaches_no_channels_alerts(team: Team) -> None:
    token = await _critical_in_other_channel(team)
    await known(team, DAN)
    await team.deliver()
    before = await snapshot(team.runtime.db)
    assert "There is no alert #1 here" in await team.dm(DAN, "alerts ack 1")
    for action in ("alerts.ack", "alerts.task", "alerts.postmortem"):
        assert "There is no alert #1 here" in await press(team, DAN, action, "1", None)
    assert await snapshot(team.runtime.db) == before
    # Resolved, the post-mortem button is no door either.
    await send(
        team,
        token,
        alertmanager(am_alert("AucDrop", model="churn", severity="critical", status="resolved")),
    )
    assert "There is no alert #1 here" in await press(team, DAN, "alerts.postmortem", "1", None)
    # In another channel than the alert's, it is not found either.
    assert "There is no alert #1 here" in await team.type(DAN, "alerts ack 1")


async def test_the_lead_the_on_call_and_an_admin_reach_it_from_a_private_chat(
    team: Team,
) -> None:
    await _critical_in_other_channel(team)
    await known(team, BEN, CAL)
    assert "There is no alert #1" in await team.dm(CAL, "alerts ack 1")
    assert "is on call" in await say_in(team, OTHER_CHANNEL, ANA, "alerts oncall @cal")
    assert "Cal acknowledged #1" in await team.dm(CAL, "alerts ack 1")
    assert "acknowledged by Cal" in await press(team, ANA, "alerts.ack", "1", None)
    admin = Actor(**{**BEN.__dict__, "admin": True})
    assert "acknowledged by Cal" in await team.dm(admin, "alerts ack 1")


async def test_the_escalation_target_reaches_the_alert_it_was_sent(team: Team) -> None:
    await known(team, BEN)
    await say_in(team, OTHER_CHANNEL, BEN, "standup setup at 09:30 tz UTC")
    await _critical_in_other_channel(team)
    await team.at(MONDAY + timedelta(minutes=31))
    (dm,) = [p for p in await team.deliver() if p.op == "direct"]
    assert dm.to == "UBEN"
    (button,) = dm.message.buttons
    assert "Ben Ode acknowledged #1" in await press(team, BEN, button.action_id, button.value, None)


async def test_only_the_acknowledger_or_a_lead_hands_an_alert_on(team: Team) -> None:
    token = await connect(team)
    await known(team, BEN, CAL)
    await send(team, token, plain(value=0.6, threshold=0.7, severity="critical"))
    assert "Ben Ode acknowledged #1" in await team.type(BEN, "alerts ack 1")
    before = await snapshot(team.runtime.db)
    refused = await press(team, CAL, "alerts.task", "1")
    assert "Only Ben Ode, Ana or a workspace admin can make #1 a backlog item" in refused
    assert await snapshot(team.runtime.db) == before
    # Ben acknowledged it: he files it, and does not become the backlog's lead.
    assert "Filed in the backlog as #1" in await press(team, BEN, "alerts.task", "1")
    async with team.runtime.db.session() as session:
        backlog = (
            await session.execute(select(Ritual).where(Ritual.kind == "backlog"))
        ).scalar_one()
        assert backlog.lead_member_id is None


async def test_a_post_mortem_opened_by_a_hand_off_makes_nobody_a_retro_lead(
    team: Team,
) -> None:
    token = await connect(team)
    await known(team, BEN, CAL)
    critical = am_alert("AucDrop", model="churn", severity="critical")
    await send(team, token, alertmanager(critical))
    await team.type(BEN, "alerts ack 1")
    await send(team, token, alertmanager(dict(critical, status="resolved")))
    before = await snapshot(team.runtime.db)
    assert "Only Ben Ode, Ana or a workspace admin" in await press(
        team, CAL, "alerts.postmortem", "1", CHANNEL
    )
    assert await snapshot(team.runtime.db) == before
    assert "Post-mortem open" in await press(team, BEN, "alerts.postmortem", "1", CHANNEL)
    async with team.runtime.db.session() as session:
        retro = (await session.execute(select(Ritual).where(Ritual.kind == "retro"))).scalar_one()
        assert retro.lead_member_id is None


async def test_forged_button_values_are_out_of_date_however_long(team: Team) -> None:
    token = await connect(team)
    await send(team, token, plain(value=0.6, threshold=0.7))
    for value in ("9" * 5000, "1" * 11, "0", "-1", "１", "1 ", "", "4294967296"):
        for action in ("alerts.ack", "alerts.task", "alerts.postmortem"):
            assert "out of date" in await press(team, ANA, action, value), (action, value)


async def test_escalation_goes_to_whoever_leads_the_channels_other_rituals(team: Team) -> None:
    """No kind is named: the backlog's lead, here, as the stand-up's would be."""
    await known(team, CAL)
    assert "#1" in await team.type(CAL, "backlog add Kick-off")  # Cal leads the backlog
    token = await connect(team)
    await send(team, token, plain(value=0.6, threshold=0.7))
    await team.at(MONDAY + timedelta(minutes=31))
    sent = await team.deliver()
    assert [p.to for p in sent if p.op == "direct"] == ["UCAL"]
    assert any(p.text.startswith("Escalated to Cal") for p in sent)
