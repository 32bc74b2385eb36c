"""A week of #ml-team's rituals, as people and monitoring make it, for the digest tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rituals.identity import Actor, Place
from storage.db import Database
from tests.helpers import CHANNEL, Posted, Team, person
from tests.rituals.alerts.support import send

MONDAY = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
FRIDAY = MONDAY + timedelta(days=4, hours=8)  # 16:00 UTC
ANA = person("ana", name="Ana")
BEN = person("ben", name="Ben")
CAL = person("cal", name="Cal")
ADMIN = Actor("test", "W1", "boss", "Boss", "UTC", admin=True)


async def said(team: Team, who: Actor, *commands: str, place: Place = CHANNEL) -> None:
    for command in commands:
        reply = await team.bot.command(who, place, command)
        assert reply is not None


async def alert(team: Team, body: dict[str, Any]) -> None:
    reply = await team.bot.command(ANA, CHANNEL, "alerts connect")
    assert reply is not None
    token = reply.message.plain_text().split("/hooks/alerts/", 1)[1].split()[0].rstrip(".`")
    answer = await send(team, token, body)
    assert answer.status == 200, answer.body


RANKER_ALERT = {
    "model": "ranker",
    "metric": "recall",
    "value": 0.71,
    "threshold": 0.8,
    "severity": "critical",
    "message": "Ranker recall fell after the label refresh",
}


async def week_of_rituals(db: Database) -> Team:
    """Monday to Friday in #ml-team: a stand-up with a blocker, a bet proposed and checked
    in on, one closed, an alert fired, taken and resolved, backlog work done in a sprint, and
    a retro with an action item."""
    team = Team(db, MONDAY)
    await said(team, ANA, "standup setup at 09:30 days mon-fri tz UTC summary 18:00")
    await said(team, BEN, "standup join")
    await said(team, ANA, "standup now")
    for text in ("trained ranker v3", "eval", "blocked on GPU quota"):
        await team.dm(ANA, text)
    for text in ("labels", "more labels", "none"):
        await team.dm(BEN, text)
    await said(
        team,
        ANA,
        "hypothesis add We believe fresh labels will result in better recall; "
        "we'll know when recall >= 0.8",
        "hypothesis add We believe a bigger model will result in lower latency; "
        "we'll know when p95 <= 120",
        "backlog sprint start Sprint 15 until 2026-11-27 Ship ranker v4",
        "backlog add experiment p1 Retrain the ranker on vendor labels @ana",
        "backlog add Dashboard of evals",
        "backlog sprint 1 Sprint 15",
        "backlog sprint 2 Sprint 15",
    )
    team.clock.set(MONDAY + timedelta(days=1))
    await alert(team, RANKER_ALERT)
    await said(team, BEN, "alerts ack 1")
    await said(
        team,
        ANA,
        "hypothesis checkin 1 at-risk recall=0.74 vendor labels are late",
        "backlog done 1",
        "hypothesis close 2 invalidated latency got worse, not better",
    )
    team.clock.set(MONDAY + timedelta(days=1, hours=3))
    await alert(team, {**RANKER_ALERT, "status": "resolved", "value": 0.82})
    team.clock.set(MONDAY + timedelta(days=3))
    await said(team, BEN, "retro start Sprint 15 retro")
    await said(team, ANA, "retro add improve Labels arrive late")
    await said(team, BEN, "retro add action Chase the labelling vendor @ana")
    await said(team, BEN, "retro close")
    await team.deliver()
    team.clock.set(FRIDAY)
    return team


def digests(posted: list[Posted]) -> list[Posted]:
    return [p for p in posted if p.message.text.startswith("Weekly digest of #")]
