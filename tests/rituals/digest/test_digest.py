"""The weekly digest: what each of a channel's rituals did in the week, in one post a reader
outside the team can follow; set by the channel's leads, posted once per week at its time in
its zone (across processes, daylight saving included), and rewritten in place by the model."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from rituals.digest import DigestKind
from rituals.digest.models import DigestRun
from rituals.llm.models import WrittenSummary
from rituals.llm.written import PENDING, PLAIN
from storage.db import Database
from storage.models import Ritual
from tests.helpers import Posted, Team
from tests.rituals.digest.support import (
    ADMIN,
    ANA,
    BEN,
    CAL,
    FRIDAY,
    MONDAY,
    RANKER_ALERT,
    alert,
    digests,
    said,
    week_of_rituals,
)
from tests.rituals.llm.fake_openai import FakeOpenAI, as_json, material_of


def kind_of(team: Team) -> DigestKind:
    kind = team.bot.kinds["digest"]
    assert isinstance(kind, DigestKind)
    return kind


async def ritual_id(team: Team) -> int:
    async with team.runtime.db.session() as session:
        return (
            await session.execute(select(Ritual.id).where(Ritual.kind == "digest"))
        ).scalar_one()


async def digest_rituals(team: Team) -> int:
    async with team.runtime.db.session() as session:
        found = await session.execute(select(Ritual.id).where(Ritual.kind == "digest"))
        return len(found.all())


def sections(posted: Posted) -> dict[str, list[str]]:
    """Each section's heading with its lines."""
    found = {}
    for section in posted.message.sections:
        heading, *lines = section.text.splitlines()
        found[heading] = lines
    return found


# --- what it says ----------------------------------------------------------------------------


async def test_digest_now_shows_each_rituals_week_in_plain_lines(db: Database) -> None:
    team = await week_of_rituals(db)

    reply = await team.type(ANA, "digest now")
    (posted,) = digests(await team.deliver())

    assert reply == "The digest of the week up to now is posted here."
    assert posted.op == "post" and posted.to == "C1"
    assert posted.message.text == "Weekly digest of #ml-team, Sat 14 Nov – Fri 20 Nov 2026"
    shown = sections(posted)
    assert list(shown) == ["*Stand-ups*", "*Retros*", "*Hypotheses*", "*Backlog*", "*Model alerts*"]
    assert shown["*Stand-ups*"] == [
        "• 1 stand-up: 2 of 2 answered (100%)",
        "• By person: Ana 1/1, Ben 1/1",
        "• Blockers: 1 opened, 0 resolved, 1 still open",
        "• Still open after 4 days: blocked on GPU quota — Ana",
    ]
    assert shown["*Retros*"][:2] == [
        "• 1 retro held; action items: 1 raised, 0 done, 1 open",
        "• Retro “Sprint 15 retro” (closed): 2 items",
    ]
    assert shown["*Hypotheses*"] == [
        "• 2 proposed, 1 closed, 1 check-in, 1 open (0 overdue)",
        "• Proposed: #1 we believe fresh labels will result in better recall "
        "(target recall >= 0.8)",
        "• Proposed: #2 we believe a bigger model will result in lower latency (target p95 <= 120)",
        "• Closed invalidated: #2 a bigger model — learned: latency got worse, not better",
        "• #1 now at risk: fresh labels",
    ]
    assert shown["*Backlog*"] == [
        "• 1 done, 2 added, 0 dropped, 1 moved",
        "• Done: #1 [p1 experiment] Retrain the ranker on vendor labels — @Ana — done",
        "• Added: #2 [p2 feature] Dashboard of evals",
        "• Moved: #2 Dashboard of evals — into sprint Sprint 15",
        "• Running sprint “Sprint 15” until 2026-11-27: 1 of 2 items done, 0 in progress "
        "— goal: Ship ranker v4",
    ]
    assert shown["*Model alerts*"] == [
        "• 1 fired, 1 acknowledged, 1 resolved, 0 still firing",
        "• Worst: #1 ranker recall = 0.71 (threshold 0.8) [critical], resolved after 3 h 0 min, "
        "acknowledged by Ben",
    ]
    assert "for readers outside the team" in posted.message.context


async def test_the_worst_alert_leads_and_those_still_firing_follow(db: Database) -> None:
    team = await week_of_rituals(db)
    drift = {**RANKER_ALERT, "model": "search", "metric": "drift", "severity": "warning"}
    await alert(team, drift)
    await said(team, ANA, "standup resolve 1")
    team.clock.set(FRIDAY + timedelta(minutes=5))

    await team.type(ANA, "digest now")
    (posted,) = digests(await team.deliver())

    shown = sections(posted)
    assert shown["*Model alerts*"] == [
        "• 2 fired, 1 acknowledged, 1 resolved, 1 still firing",
        "• Worst: #1 ranker recall = 0.71 (threshold 0.8) [critical], resolved after 3 h 0 min, "
        "acknowledged by Ben",
        "• Still firing: #2 search drift = 0.71 (threshold 0.8) [warning], firing for 5 min, "
        "not acknowledged",
    ]
    assert shown["*Stand-ups*"][2:] == [
        "• Blockers: 1 opened, 1 resolved, 0 still open",
        "• Resolved: blocked on GPU quota — Ana",
    ]


async def test_a_week_later_only_that_weeks_work_is_counted(db: Database) -> None:
    team = await week_of_rituals(db)
    team.clock.set(FRIDAY + timedelta(days=7))

    await team.type(ANA, "digest now")
    (posted,) = digests(await team.deliver())

    shown = sections(posted)
    assert shown["*Stand-ups*"][0] == "• No stand-up ran this week."
    assert shown["*Hypotheses*"][0] == "• 0 proposed, 0 closed, 0 check-ins, 1 open (0 overdue)"
    assert shown["*Backlog*"][0] == "• 0 done, 0 added, 0 dropped, 0 moved"
    assert shown["*Model alerts*"] == ["• 0 fired, 0 acknowledged, 0 resolved, 0 still firing"]
    # The blocker is still open, and older.
    assert "• Still open after 11 days: blocked on GPU quota — Ana" in shown["*Stand-ups*"]


async def test_an_item_finished_then_reopened_reads_as_reopened_not_done(db: Database) -> None:
    team = Team(db, MONDAY)
    await said(team, ANA, "backlog add Retrain the ranker", "backlog done 1", "backlog doing 1")
    team.clock.set(MONDAY + timedelta(minutes=5))

    await team.type(ANA, "digest now")
    (posted,) = digests(await team.deliver())

    backlog = sections(posted)["*Backlog*"]
    assert backlog[0] == "• 0 done, 1 added, 0 dropped, 1 moved"
    assert "• Moved: #1 Retrain the ranker — started" in backlog


async def test_a_channel_with_no_ritual_gets_a_short_digest(db: Database) -> None:
    team = Team(db, MONDAY)

    await team.type(ANA, "digest now")
    (posted,) = digests(await team.deliver())

    assert posted.message.text.endswith(": no ritual runs in this channel yet.")


# --- who sets it, and when it goes out ---------------------------------------------------------


async def test_the_channels_leads_and_admins_set_it_and_others_are_refused(db: Database) -> None:
    team = Team(db, MONDAY)
    await said(team, ANA, "standup setup at 09:30")

    refused = await team.type(CAL, "digest weekly fri 16:00")
    assert await digest_rituals(team) == 0  # a refusal writes nothing
    by_lead = await team.type(ANA, "digest weekly fri 16:00 tz Europe/Berlin")
    by_admin = await team.type(ADMIN, "digest off")

    assert refused == "Only Ana or a workspace admin can change this channel's digest."
    assert by_lead.startswith(
        "The weekly digest of this channel comes every Friday at 16:00 (Europe/Berlin)"
    )
    assert by_admin == "The weekly digest is off."
    assert await team.type(CAL, "digest now") == refused
    assert digests(await team.deliver()) == []


async def test_status_says_when_it_comes(db: Database) -> None:
    team = Team(db, MONDAY)

    before = await team.type(BEN, "digest status")
    await team.type(BEN, "digest weekly mon 09:00")
    after = await team.type(CAL, "digest status")

    assert before.startswith("This channel has no weekly digest.")
    assert after.startswith("The weekly digest comes every Monday at 09:00 (UTC).")


async def test_it_goes_out_once_at_its_time_across_processes(db: Database) -> None:
    first, second = Team(db, MONDAY), Team(db, MONDAY)
    await said(first, ANA, "standup setup at 09:30", "digest weekly fri 16:00")
    digest_id = await ritual_id(first)

    for team in (first, second):
        team.clock.set(FRIDAY - timedelta(minutes=1))
    assert await kind_of(first).digests.post_due(digest_id) == 0
    for team in (first, second):
        team.clock.set(FRIDAY + timedelta(minutes=2))
    posted = await asyncio.gather(
        *(kind_of(team).digests.post_due(digest_id) for team in (first, second))
    )

    assert sorted(posted) == [0, 1]
    assert len(digests(await first.deliver())) == 1
    assert await kind_of(second).catch_up() == 0


async def test_a_process_down_past_the_grace_period_skips_the_week(db: Database) -> None:
    team = Team(db, MONDAY)
    await said(team, ANA, "digest weekly fri 16:00")
    team.clock.set(FRIDAY + timedelta(hours=2))  # the grace period is one hour

    assert await kind_of(team).catch_up() == 0

    async with db.session() as session:
        (run,) = (await session.execute(select(DigestRun))).scalars()
    assert (run.local_date.isoformat(), run.outcome) == ("2026-11-20", "missed")
    assert digests(await team.deliver()) == []


async def test_it_keeps_its_wall_clock_time_across_the_change_from_summer_time(
    db: Database,
) -> None:
    # Berlin leaves summer time on Sunday 25 October 2026: 09:00 is 07:00 UTC the Monday
    # before and 08:00 UTC the Monday after.
    team = Team(db, datetime(2026, 10, 13, 12, 0, tzinfo=UTC))
    await said(team, ANA, "digest weekly mon 09:00 tz Europe/Berlin")
    digest_id = await ritual_id(team)
    (slot,) = await kind_of(team).slots(digest_id)
    kind = kind_of(team)

    times = []
    for when in (
        datetime(2026, 10, 19, 6, 59, tzinfo=UTC),
        datetime(2026, 10, 19, 7, 0, tzinfo=UTC),
        datetime(2026, 10, 26, 7, 30, tzinfo=UTC),
        datetime(2026, 10, 26, 8, 0, tzinfo=UTC),
    ):
        team.clock.set(when)
        if await kind.digests.post_due(digest_id):
            times.append(when)

    assert times == [
        datetime(2026, 10, 19, 7, 0, tzinfo=UTC),
        datetime(2026, 10, 26, 8, 0, tzinfo=UTC),
    ]
    posted = digests(await team.deliver())
    assert [p.message.text for p in posted] == [
        "Weekly digest of #ml-team, Tue 13 Oct – Mon 19 Oct 2026: no ritual runs in this "
        "channel yet.",
        "Weekly digest of #ml-team, Tue 20 Oct – Mon 26 Oct 2026: no ritual runs in this "
        "channel yet.",
    ]
    assert slot.schedule.tz == "Europe/Berlin" and slot.key == "digest"


# --- the model's version -----------------------------------------------------------------------


def written(*cited: list[str]) -> dict[str, Any]:
    return {
        "headline": "Ranker retraining done; labels late and a recall alert resolved",
        "points": [{"text": f"Point {n}", "parts": parts} for n, parts in enumerate(cited, 1)],
    }


async def written_digest(db: Database, fake: FakeOpenAI) -> tuple[Team, Posted, list[Posted]]:
    """The digest as posted, and what the model's sweep then changed."""
    team = await week_of_rituals(db)
    team.runtime.llm = fake.model()
    await team.type(ANA, "digest now")
    (posted,) = digests(await team.deliver())
    assert await team.bot.kinds["ask"].write_summaries() == 1
    return team, posted, digests(await team.deliver())


async def test_the_models_digest_replaces_the_plain_one_in_place(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.respond = as_json(written(["alerts", "hypothesis"], ["backlog"]))

    _, posted, (update,) = await written_digest(db, fake_openai)

    assert PENDING in posted.message.context
    assert update.op == "update" and update.thread == posted.ref
    assert update.message.text == (
        "Weekly digest of #ml-team, Sat 14 Nov – Fri 20 Nov 2026 — Ranker retraining done; "
        "labels late and a recall alert resolved"
    )
    short, *rest = update.message.sections
    assert short.text.splitlines() == [
        "*In short*",
        "• Point 1 (Model alerts, Hypotheses)",
        "• Point 2 (Backlog)",
    ]
    assert [s.text for s in rest] == [s.text for s in posted.message.sections]
    assert update.message.context.startswith("Written by the model (gpt-4o-mini)")
    (body,) = fake_openai.bodies
    seen = material_of(body)
    assert [p["id"] for p in seen["parts"]] == [
        "standup",
        "retro",
        "hypothesis",
        "backlog",
        "alerts",
    ]
    assert seen["parts"][4]["counts"] == {
        "fired": 1,
        "acknowledged": 1,
        "resolved": 1,
        "firing": 0,
    }
    assert seen["period"] == "Sat 14 Nov – Fri 20 Nov 2026"
    assert body["messages"][0]["content"].startswith("You write the weekly digest")


@pytest.mark.parametrize(
    "cited", [(["alerts"], []), (["payroll"],), ()], ids=["cites-nothing", "unknown-part", "empty"]
)
async def test_an_answer_citing_no_part_or_an_unknown_one_leaves_the_plain_digest_marked(
    db: Database, fake_openai: FakeOpenAI, cited: tuple[list[str], ...]
) -> None:
    fake_openai.respond = as_json(written(*cited))

    _, posted, (update,) = await written_digest(db, fake_openai)

    assert update.thread == posted.ref
    assert update.message.context.startswith(f"{PLAIN} · ")
    assert update.message.text == posted.message.text
    assert update.message.sections == posted.message.sections
    async with db.session() as session:
        (row,) = (await session.execute(select(WrittenSummary))).scalars()
        assert (row.status, row.reason) == ("plain", "invalid")


async def test_with_the_model_off_the_digest_is_plain_and_nothing_is_sent(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    team = await week_of_rituals(db)
    team.runtime.llm = fake_openai.model()
    await team.type(ADMIN, "ask model off")

    await team.type(ANA, "digest now")
    (posted,) = digests(await team.deliver())

    assert await team.bot.kinds["ask"].write_summaries() == 0
    assert PENDING not in posted.message.context and fake_openai.bodies == []
