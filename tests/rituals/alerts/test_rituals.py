"""Alerts in the other rituals, through the seam only: the stand-up summary's lines, a
backlog item from an acknowledged alert, a post-mortem retro from a resolved critical one,
and raw values handed to whichever kind follows metrics."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.alerts import AlertsKind
from rituals.commands import Verbs
from rituals.kinds import Handoff, Kind, Registry, Taken
from rituals.retro import RetroKind
from rituals.standup.kind import StandupKind
from storage.db import Database
from storage.models import Channel, Member
from tests.handlers.alerts.payloads import alertmanager, am_alert, plain
from tests.helpers import CHANNEL, Team
from tests.rituals.alerts.support import ANA, BEN, MONDAY, alerts, connect, group_posts, send
from tests.rituals.retro.support import retros

TAKEN: list[Handoff] = []


class TrackerKind(Kind):
    """Takes tasks and metrics, as a backlog and hypotheses would."""

    word = "tracker"
    title = "tracker"
    verbs: ClassVar[Verbs] = {}
    help = ""
    takes = frozenset({"task", "metric"})

    async def take(
        self,
        session: AsyncSession,
        channel: Channel,
        handoff: Handoff,
        now: datetime,
        by: Member | None,
    ) -> Taken | None:
        TAKEN.append(handoff)
        return Taken(f"Filed {handoff.title} as a {handoff.category or handoff.what}", "t:1")


@pytest.fixture
def tracked(db: Database) -> Team:
    TAKEN.clear()
    return Team(db, MONDAY, Registry([StandupKind, RetroKind, AlertsKind, TrackerKind]))


async def test_alerts_still_firing_and_resolved_since_join_the_stand_up_summary(
    team: Team,
) -> None:
    await team.type(ANA, "standup setup at 09:30 tz UTC summary 10:00")
    token = await connect(team)
    await send(team, token, alertmanager(am_alert("AucDrop", model="churn")))
    await send(team, token, alertmanager(am_alert("Lag", model="feed"), group="Feed"))
    await team.type(BEN, "help")
    await team.type(BEN, "alerts ack 2")
    team.clock.set(MONDAY + timedelta(minutes=20))
    await send(
        team, token, alertmanager(am_alert("Lag", model="feed", status="resolved"), group="Feed")
    )
    await team.at(MONDAY + timedelta(minutes=31))
    await team.standups.prompt_due(1, "UTC")
    await team.at(MONDAY + timedelta(hours=1, minutes=1))
    (summary,) = [p for p in await team.deliver() if p.text.startswith("Stand-up #")]
    assert "*Alerts still firing*\n• #1 AucDrop [warning] — firing since 09:00 UTC" in summary.text
    assert (
        "*Alerts resolved*\n• #2 Lag [warning] — resolved after 20 min · acknowledged by Ben"
        in (summary.text)
    )
    # The next day's summary: still firing, but nothing resolved since.
    await team.at(MONDAY + timedelta(days=1, minutes=31))
    await team.standups.prompt_due(1, "UTC")
    await team.at(MONDAY + timedelta(days=1, hours=1, minutes=1))
    (second,) = [p for p in await team.deliver() if p.text.startswith("Stand-up #")]
    assert "#1 AucDrop" in second.text and "#2 Lag" not in second.text


async def test_an_acknowledged_alert_becomes_a_backlog_item_in_one_step(tracked: Team) -> None:
    team = tracked
    token = await connect(team)
    await send(team, token, plain(value=0.6, threshold=0.7, severity="critical"))
    await team.type(BEN, "help")
    await team.type(ANA, "alerts oncall @ben")
    reply = await team.bot.action(BEN, None, "alerts.ack", "1")
    assert reply is not None
    (button,) = reply.message.buttons
    assert (button.action_id, button.value) == ("alerts.task", "1")
    done = await team.bot.action(BEN, None, "alerts.task", "1")
    assert done is not None and done.message.text == "Filed Alert #1: churn auc as a monitor"
    (handoff,) = [h for h in TAKEN if h.what == "task"]
    assert handoff.source == "alerts:1" and handoff.category == "monitor"
    assert (await alerts(team.runtime.db))[0].task_ref == "t:1"


async def test_without_a_kind_taking_tasks_the_button_is_not_offered(db: Database) -> None:
    team = Team(db, MONDAY, Registry([StandupKind, RetroKind, AlertsKind]))
    token = await connect(team)
    await send(team, token, plain(value=0.6, threshold=0.7))
    reply = await team.bot.action(BEN, CHANNEL, "alerts.ack", "1")
    assert reply is not None and reply.message.buttons == []
    pressed = await team.bot.action(BEN, CHANNEL, "alerts.task", "1")
    assert pressed is not None and "No ritual here takes tasks" in pressed.message.text


async def test_a_resolved_critical_alert_opens_a_post_mortem_with_its_timeline(
    team: Team,
) -> None:
    token = await connect(team)
    await team.type(BEN, "help")
    critical = am_alert("AucDrop", model="churn", severity="critical")
    await send(team, token, alertmanager(critical))
    team.clock.set(MONDAY + timedelta(minutes=3))
    await team.type(BEN, "alerts ack 1")
    team.clock.set(MONDAY + timedelta(minutes=50))
    await send(team, token, alertmanager(dict(critical, status="resolved")))
    sent = await team.deliver()
    (offer,) = [p for p in sent if p.message.buttons and p.thread]
    assert offer.thread == group_posts(sent)[0].ref
    assert "#1 AucDrop was critical and is resolved after 50 min" in offer.text
    (button,) = offer.message.buttons
    reply = await team.bot.action(ANA, None, button.action_id, button.value)
    assert reply is not None and reply.message.text.startswith("Post-mortem open: retro #1")
    (retro,) = await retros(team.runtime.db)
    assert retro.format == "postmortem" and retro.source == "alerts:1:postmortem"
    sent = await team.deliver()
    (note,) = [p for p in sent if p.text.startswith("Ana opened the post-mortem")]
    assert note.thread == offer.thread
    board = [p for p in sent if p.text.startswith("Retro: Post-mortem: AucDrop")]
    assert board and "*What happened*" in board[-1].text
    assert "08:58" not in board[-1].text
    assert "2030-01-07 09:03 UTC acknowledged by Ben Ode" in board[-1].text
    assert "2030-01-07 09:50 UTC resolved after 50 min" in board[-1].text
    # Pressed again: the same retro, not a second one.
    again = await team.bot.action(ANA, None, button.action_id, button.value)
    assert again is not None and "is retro #1" in again.message.text
    assert len(await retros(team.runtime.db)) == 1
    assert not [p for p in await team.deliver() if p.text.startswith("Ana opened")]


async def test_a_warning_resolving_offers_no_post_mortem(team: Team) -> None:
    token = await connect(team)
    await send(team, token, alertmanager(am_alert("Slow")))
    await send(team, token, alertmanager(am_alert("Slow", status="resolved")))
    assert not [p for p in await team.deliver() if p.message.buttons and p.thread]


async def test_raw_values_are_handed_to_the_kind_that_takes_metrics(tracked: Team) -> None:
    team = tracked
    token = await connect(team)
    reply = await send(team, token, plain(model="ranker", metric="recall", value=0.81))
    assert reply.body["handed_over"] == 1  # how many, not which hypotheses
    assert "Filed" not in str(reply.body)
    (handoff,) = TAKEN
    assert handoff.what == "metric" and handoff.details["value"] == 0.81
    assert handoff.details["model"] == "ranker" and handoff.source.startswith("alerts:1:metric:")


async def test_the_same_value_on_another_day_is_another_point(tracked: Team) -> None:
    team = tracked
    token = await connect(team)
    for day in (0, 0, 1, 2):
        team.clock.set(MONDAY + timedelta(days=day))
        await send(team, token, plain(model="ranker", metric="recall", value=0.8))
    sources = [h.source for h in TAKEN if h.what == "metric"]
    assert len(sources) == 4 and len(set(sources)) == 3


async def test_the_post_mortem_timeline_shows_the_value_it_fired_at(team: Team) -> None:
    token = await connect(team)
    await send(team, token, plain(value=0.61, threshold=0.7, severity="critical"))
    team.clock.set(MONDAY + timedelta(minutes=5))
    await send(team, token, plain(value=0.52, threshold=0.7, severity="critical"))
    team.clock.set(MONDAY + timedelta(minutes=20))
    await send(team, token, plain(value=0.74, threshold=0.7, status="resolved"))
    await team.deliver()
    reply = await team.bot.action(ANA, None, "alerts.postmortem", "1")
    assert reply is not None and reply.message.text.startswith("Post-mortem open")
    board = [p for p in await team.deliver() if p.text.startswith("Retro: Post-mortem")]
    shown = board[-1].text
    assert "09:00 UTC fired: #1 churn auc = 0.61 (threshold 0.7)" in shown
    assert "09:20 UTC resolved after 20 min at 0.74" in shown
