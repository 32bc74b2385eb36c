"""What the channel and the other kinds see: metric values from monitoring joining a series,
hypotheses needing attention in the stand-up summary, the weekly digest, and the backlog
item offered when one closes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.commands import Verbs
from rituals.hypothesis import HypothesisKind
from rituals.hypothesis.digest import Digests
from rituals.hypothesis.views import sparkline
from rituals.kinds import Handoff, Kind, Registry, Taken
from rituals.standup.kind import StandupKind
from storage.db import Database
from storage.models import Channel, Member, Ritual
from tests.helpers import CHANNEL, Team
from tests.rituals.hypothesis.support import (
    ANA,
    MONDAY,
    SENTENCE,
    hypotheses,
    kind_of,
    points,
)
from tests.rituals.retro.support import press

MODEL = SENTENCE + " model ranker"


async def hand_metric(team: Team, value: object, source: str, **extra: object) -> Taken | None:
    """What the alerts kind does with a metric value: hand it to whoever takes metrics."""
    standup = team.bot.kinds["standup"]
    async with team.runtime.db.session() as session:
        channel = (await session.execute(select(Channel))).scalars().first()
        assert channel is not None
        details = {"model": "ranker", "metric": "precision", "value": value, **extra}
        handoff = Handoff("metric", f"precision {value}", source=source, details=details)
        return await standup.peers.take(session, channel, handoff, team.clock.now())


async def test_a_metric_from_monitoring_joins_the_matching_series_once(team: Team) -> None:
    await team.type(ANA, MODEL)
    await team.type(ANA, SENTENCE)  # no model: monitoring never feeds it
    await team.type(ANA, SENTENCE.replace("precision", "recall") + " model ranker")
    taken = await hand_metric(team, 0.86, "alerts:1")
    assert taken == Taken("precision 0.86 added to hypothesis #1", ref=taken.ref if taken else "")
    again = await hand_metric(team, 0.86, "alerts:1")
    assert again is not None and again.text == "precision 0.86 already recorded for hypothesis #1"
    assert await points(team.runtime.db) == [(0.86, None, "precision 0.86")]
    reached = await hand_metric(team, "0.93", "alerts:2")
    assert reached is not None and "#1 reached the target" in reached.text
    # Other models, other metrics, values that are not numbers: nothing is taken.
    assert await hand_metric(team, 0.9, "alerts:3", model="other") is None
    assert await hand_metric(team, 0.9, "alerts:4", metric="loss") is None
    assert await hand_metric(team, "high", "alerts:5") is None
    assert await hand_metric(team, float("nan"), "alerts:6") is None
    [first, *_] = await hypotheses(team.runtime.db)
    assert (first.recent, first.points, first.state) == ([0.86, 0.93], 2, "testing")
    assert "(monitoring)" in await team.type(ANA, "hypothesis show 1")
    # A hypothesis added since takes the repeat; the line names only it as added.
    await team.type(ANA, MODEL.replace("dedup", "pruning"))
    partly = await hand_metric(team, 0.86, "alerts:1")
    assert partly is not None
    assert partly.text == "precision 0.86 added to hypothesis #4; already recorded for #1"


async def test_monitoring_reaching_the_target_tells_the_owner_once_in_private(team: Team) -> None:
    await team.type(ANA, MODEL)
    await team.deliver()
    assert await hand_metric(team, 0.86, "alerts:1") is not None
    assert [p for p in await team.deliver() if p.op == "direct"] == []
    await hand_metric(team, 0.93, "alerts:2")
    [told] = [p for p in await team.deliver() if p.op == "direct"]
    assert told.to == "UANA"
    assert told.text.startswith(
        "Hypothesis #1 in #ml-team reached its target: monitoring sent precision 0.93"
    )
    assert "`hypothesis close 1 validated what we learned`" in told.text
    await hand_metric(team, 0.95, "alerts:3")
    assert [p for p in await team.deliver() if p.op == "direct"] == []
    [button] = told.message.buttons
    closed = await press(team, ANA, button.action_id, button.value, None)
    assert closed.startswith("#1 closed as validated")


async def test_a_closed_hypothesis_takes_no_more_values(team: Team) -> None:
    await team.type(ANA, MODEL)
    await team.type(ANA, "hypothesis close 1 pivot")
    assert await hand_metric(team, 0.9, "alerts:1") is None


async def test_overdue_and_missed_hypotheses_join_the_stand_up_summary(team: Team) -> None:
    await team.type(ANA, SENTENCE + " by 2030-01-08 checkin weekly fri")
    await team.type(ANA, SENTENCE.replace("dedup", "a bigger model") + " checkin daily")
    await team.type(ANA, SENTENCE.replace("dedup", "fine tuning") + " by 2031-01-01")
    await team.type(ANA, "standup setup at 09:30 tz UTC summary 10:00")
    # Tuesday: #2's check-in at 09:00 goes unanswered (reminded 13:00, missed 21:00).
    for hours in (25, 29, 37):
        await team.at(MONDAY + timedelta(hours=hours))
    # Wednesday: #1 is past its deadline too.
    await team.at(datetime(2030, 1, 9, 9, 30, tzinfo=UTC))
    await team.standups.prompt_due(await _ritual_id(team, "standup"), "UTC")
    await team.at(datetime(2030, 1, 9, 10, 1, tzinfo=UTC))
    sent = await team.deliver()
    [summary] = [p for p in sent if p.text.startswith("Stand-up #")]
    assert "Hypotheses needing attention" in summary.text
    assert "#1 dedup (precision >= 0.9, Ana): overdue by 1 day" in summary.text
    assert "#2 a bigger model (precision >= 0.9, Ana): check-in missed" in summary.text
    assert "fine tuning" not in summary.text


async def test_the_weekly_digest_lists_open_ones_overdue_and_stale_first(team: Team) -> None:
    await team.type(ANA, SENTENCE + " by 2030-03-01")
    await team.type(ANA, SENTENCE.replace("dedup", "a bigger model") + " by 2030-01-10")
    await team.type(ANA, SENTENCE.replace("dedup", "fine tuning"))
    await team.type(ANA, SENTENCE.replace("dedup", "closed bet"))
    await team.type(ANA, "hypothesis close 4 invalidated")
    for value in (0.8, 0.84, 0.88):
        await team.type(ANA, f"hypothesis checkin 1 on-track precision={value} ok")
    reply = await team.type(ANA, "hypothesis digest fri 16:00")
    assert reply.startswith("The hypothesis digest comes every Friday at 16:00 (UTC)")

    await team.at(datetime(2030, 1, 11, 15, 59, tzinfo=UTC))
    assert not [p for p in await team.deliver() if p.text.startswith("Hypothesis digest")]
    await team.at(datetime(2030, 1, 18, 16, 0, tzinfo=UTC))
    await _run_digest(team)
    await _run_digest(team)  # a second run (another process) posts nothing more
    [digest] = [p for p in await team.deliver() if p.text.startswith("Hypothesis digest")]
    assert digest.op == "post" and digest.to == "C1"
    lines = digest.text.splitlines()
    assert lines[0] == "Hypothesis digest: 3 open, 1 overdue, 2 stale"
    assert lines[1].startswith("• ⚠ overdue · #2 proposed · no check-in yet")
    assert "overdue by 8 days" in lines[1]
    assert lines[2].startswith(
        "• ⏳ stale · #1 testing · on track · precision >= 0.9 ▁▄▇ last 0.88"
    )
    assert "42 days left" in lines[2]
    assert lines[3].startswith("• ⏳ stale · #3")
    assert "closed bet" not in digest.text


async def test_the_digest_is_posted_once_across_processes_and_skipped_when_late(
    db: Database,
) -> None:
    first, second = Team(db, MONDAY), Team(db, MONDAY)
    await first.type(ANA, SENTENCE)
    await first.type(ANA, "hypothesis digest mon 09:00")
    ritual_id = await _ritual_id(first)
    for team in (first, second):
        team.clock.set(MONDAY + timedelta(days=7, hours=1, minutes=10))
    posted = await asyncio.gather(
        *(kind_of(team).digests.post_due(ritual_id) for team in (first, second))
    )
    assert sorted(posted) == [0, 1]
    # A week later, two hours late (the grace period is one hour): skipped.
    first.clock.set(MONDAY + timedelta(days=14, hours=3))
    assert await kind_of(first).digests.post_due(ritual_id) == 0


async def test_setting_the_digest_needs_a_lead_and_off_stops_it(team: Team) -> None:
    await team.type(ANA, SENTENCE)
    intruder = ANA.__class__(ANA.platform, ANA.workspace, "UEVE", "Eve", "UTC")
    assert "Only Ana or a workspace admin can set the digest" in await team.type(
        intruder, "hypothesis digest fri 16:00"
    )
    await team.type(ANA, "hypothesis digest fri 16:00")
    digests = kind_of(team).digests
    async with team.runtime.db.session() as session:
        assert len(await digests.versions(session)) == 1
    assert "is off" in await team.type(ANA, "hypothesis digest off")
    async with team.runtime.db.session() as session:
        assert await digests.versions(session) == {}
    shown = await team.type(ANA, "hypothesis digest")
    assert shown.startswith("Hypothesis digest: 1 open")


def test_sparklines_scale_between_the_values_and_the_target() -> None:
    assert sparkline([]) == "—"
    assert sparkline([1.0, 1.0]) == "▅▅"
    assert sparkline([0.0, 0.5, 1.0]) == "▁▅█"
    assert sparkline([0.5], 1.0) == "▁"


class TaskKind(Kind):
    """A stand-in for the backlog: takes tasks and remembers them."""

    word = "tasks"
    title = "task"
    verbs: ClassVar[Verbs] = {}
    help = ""
    takes = frozenset({"task"})
    taken: ClassVar[list[Handoff]] = []

    async def take(
        self,
        session: AsyncSession,
        channel: Channel,
        handoff: Handoff,
        now: datetime,
        by: Member | None,
    ) -> Taken | None:
        TaskKind.taken.append(handoff)
        return Taken(f"Backlog item B{len(TaskKind.taken)}: {handoff.title}", ref="backlog:1")


async def test_closing_offers_the_next_step_to_the_backlog_when_there_is_one(
    db: Database,
) -> None:
    TaskKind.taken.clear()
    team = Team(db, MONDAY, Registry([StandupKind, HypothesisKind, TaskKind]))
    await team.type(ANA, SENTENCE)
    await team.type(ANA, "hypothesis close 1 invalidated dedup does not help; try relabeling")
    [outcome] = [p for p in await team.deliver() if p.text.startswith("Hypothesis #1 invalidated")]
    [button] = outcome.message.buttons
    assert button.label == "Add the next step to the backlog"
    stranger = ANA.__class__(ANA.platform, ANA.workspace, "UEVE", "Eve", "UTC")
    assert (await press(team, stranger, button.action_id, button.value)).startswith("Only Ana")
    assert TaskKind.taken == []
    reply = await press(team, ANA, button.action_id, button.value)
    assert reply.startswith("Backlog item B1: Next step after hypothesis #1 (invalidated)")
    [handoff] = TaskKind.taken
    assert handoff.source.startswith("hypothesis:") and handoff.what == "task"
    assert "try relabeling" in handoff.title


async def _run_digest(team: Team) -> int:
    digests: Digests = kind_of(team).digests
    return await digests.post_due(await _ritual_id(team))


async def _ritual_id(team: Team, kind: str = "hypothesis") -> int:
    async with team.runtime.db.session() as session:
        rows = await session.execute(select(Ritual.id).where(Ritual.kind == kind))
        return rows.scalar_one()


async def test_a_long_digest_keeps_overdue_ones_and_says_how_many_more(team: Team) -> None:
    for n in range(103):
        await team.type(ANA, SENTENCE.replace("dedup", f"change {n}") + " by 2030-03-01")
    await team.type(ANA, SENTENCE.replace("dedup", "the late one") + " by 2030-01-08")
    team.clock.set(datetime(2030, 1, 10, 9, 0, tzinfo=UTC))
    reply = await team.bot.command(ANA, CHANNEL, "hypothesis digest")
    assert reply is not None
    text = reply.message.plain_text()
    assert text.splitlines()[1].startswith("• ⚠ overdue · #104")
    assert text.count("\n• ") == 100 and "…and 4 more" in text
    assert all(len(s.text) <= 2800 for s in reply.message.sections)
