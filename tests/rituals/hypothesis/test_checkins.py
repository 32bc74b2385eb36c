"""Scheduled check-ins: asked in private on the cadence in the owner's zone (across DST
changes), answered in a direct message or a form, reminded once then marked missed, asked
once across processes, and never confused with a stand-up's questions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from rituals.hypothesis.cadence import next_checkin
from rituals.hypothesis.models import Hypothesis
from storage.db import Database
from storage.models import Answer, Member
from tests.helpers import Team, person
from tests.rituals.hypothesis.support import (
    ANA,
    BEN,
    MONDAY,
    SENTENCE,
    asks,
    hypotheses,
    kind_of,
    known,
    points,
    snapshot,
)

NINE = MONDAY.replace(hour=9)


async def asked_dms(team: Team, user: str) -> list[str]:
    """The check-in questions and reminders sent to ``user`` since the last look."""
    sent = [p.text for p in await team.deliver() if p.op == "direct" and p.to == user]
    return [t for t in sent if t.startswith(("Check-in for hypothesis", "Reminder — check-in"))]


async def test_the_owner_is_asked_in_private_and_the_answer_is_a_point(team: Team) -> None:
    await team.type(ANA, SENTENCE + " checkin daily")
    await team.at(NINE - timedelta(minutes=1))
    assert await asked_dms(team, "UANA") == []
    await team.at(NINE)
    [question] = await asked_dms(team, "UANA")
    assert question.startswith("Check-in for hypothesis #1 in #ml-team")
    assert "the current precision and a line of evidence" in question

    reply = await team.dm(ANA, "on track 0.87 labels look cleaner")
    assert reply.startswith("Check-in for #1 recorded: on track · precision 0.87.")
    assert await points(team.runtime.db) == [(0.87, "on-track", "labels look cleaner")]
    [h] = await hypotheses(team.runtime.db)
    assert (h.state, h.status, h.recent) == ("testing", "on-track", [0.87])
    # Answered: nothing waits any more, and no reminder follows.
    assert "Nothing is waiting" in await team.dm(ANA, "at risk 0.5 oops")
    await team.at(NINE + timedelta(hours=5))
    assert await asked_dms(team, "UANA") == []
    # The next day it asks again.
    await team.at(NINE + timedelta(days=1))
    assert len(await asked_dms(team, "UANA")) == 1


async def test_an_answer_that_is_not_one_changes_nothing_and_says_what_is_wanted(
    team: Team,
) -> None:
    await team.type(ANA, SENTENCE + " checkin daily")
    await team.at(NINE)
    before = await snapshot(team.runtime.db)
    assert "reply with a status" in await team.dm(ANA, "pretty good I guess")
    assert "expected a number like 0.8, not '0.8x'" in await team.dm(ANA, "on track 0.8x fine")
    assert "expected a number" in await team.dm(ANA, "at risk precision=lots fine")
    assert "#1 tracks precision, not recall" in await team.dm(ANA, "on track recall=0.4 x")
    assert "evidence is missing" in await team.dm(ANA, "on track")
    assert await snapshot(team.runtime.db) == before
    assert "recorded" in await team.dm(ANA, "at-risk: drift in March")
    assert await points(team.runtime.db) == [(None, "at-risk", "drift in March")]


async def test_a_missed_check_in_is_reminded_once_then_marked_missed(team: Team) -> None:
    await team.type(ANA, SENTENCE + " checkin daily")
    await team.at(NINE)
    await team.deliver()
    await team.at(NINE + timedelta(hours=4))
    [reminder] = await asked_dms(team, "UANA")
    assert reminder.startswith("Reminder — check-in for hypothesis #1")
    await team.at(NINE + timedelta(hours=6))
    assert await asked_dms(team, "UANA") == []
    await team.at(NINE + timedelta(hours=12))
    [ask] = await asks(team.runtime.db)
    assert ask.outcome == "missed" and ask.missed_at is not None
    [h] = await hypotheses(team.runtime.db)
    assert h.missed_at is not None
    assert "Nothing is waiting" in await team.dm(ANA, "on track 0.8 late")
    assert "missed" in await team.type(ANA, "hypothesis show 1")
    # A check-in typed any time clears it.
    await team.type(ANA, "hypothesis checkin 1 on-track precision=0.8 late but fine")
    [h] = await hypotheses(team.runtime.db)
    assert h.missed_at is None


async def test_skip_passes_one_check_in(team: Team) -> None:
    await team.type(ANA, SENTENCE + " checkin daily")
    await team.at(NINE)
    assert "Skipped the check-in for #1" in await team.dm(ANA, "skip")
    [ask] = await asks(team.runtime.db)
    assert ask.outcome == "skipped"
    assert await points(team.runtime.db) == []


async def test_several_waiting_check_ins_are_told_apart_by_number(team: Team) -> None:
    await team.type(ANA, SENTENCE + " checkin daily")
    await team.type(ANA, SENTENCE.replace("precision", "recall") + " checkin daily")
    await team.at(NINE)
    assert len(await asked_dms(team, "UANA")) == 2
    assert "start your answer with the one it is for" in await team.dm(ANA, "on track 0.8 ok")
    assert "No check-in for #5 is waiting" in await team.dm(ANA, "#5 on track 0.8 ok")
    assert "Check-in for #2 recorded" in await team.dm(ANA, "#2 on track 0.7 ok")
    assert "Check-in for #1 recorded" in await team.dm(ANA, "on track 0.91 ok")


async def test_check_ins_follow_the_owner_zone_across_dst(team: Team) -> None:
    """Ben in Berlin is asked at 09:00 his time: 08:00 UTC in winter, 07:00 in summer."""
    await known(team, BEN)
    start = datetime(2030, 3, 29, 10, 0, tzinfo=UTC)  # Friday; DST starts Sunday 31 March
    team.clock.set(start)
    await team.type(ANA, SENTENCE + " checkin daily owner @ben")
    seen = []
    when = start
    while when < start + timedelta(days=4):
        when += timedelta(minutes=30)
        await team.at(when)
        if await asked_dms(team, "UBEN"):
            seen.append(when)
            await team.dm(BEN, "on track 0.8 fine")
    assert seen == [
        datetime(2030, 3, 30, 8, 0, tzinfo=UTC),
        datetime(2030, 3, 31, 7, 0, tzinfo=UTC),
        datetime(2030, 4, 1, 7, 0, tzinfo=UTC),
        datetime(2030, 4, 2, 7, 0, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    ("cadence", "tz", "after", "expected"),
    [
        # New York's change (10 March 2030), and back (3 November 2030).
        ("daily", "America/New_York", "2030-03-09T15:00", "2030-03-10T13:00"),
        ("daily", "America/New_York", "2030-11-02T15:00", "2030-11-03T14:00"),
        ("weekly", "America/New_York", "2030-03-05T15:00", "2030-03-11T13:00"),
        ("weekly fri", "Asia/Kolkata", "2030-01-07T00:00", "2030-01-11T03:30"),
        # Cron counts days from Sunday: 1-5 is Monday to Friday, 0 is Sunday.
        ("0 9 * * 1-5", "Europe/Berlin", "2030-03-29T08:00", "2030-04-01T07:00"),
        ("30 8 * * 0", "Europe/Berlin", "2030-03-29T08:00", "2030-03-31T06:30"),
        # 02:30 does not exist on the spring-forward night in Berlin: it runs at 03:30.
        ("30 2 * * *", "Europe/Berlin", "2030-03-30T12:00", "2030-03-31T01:30"),
        ("0 9 * * mon", "Pacific/Auckland", "2030-01-06T00:00", "2030-01-06T20:00"),
    ],
)
def test_cadences_in_zones_and_across_dst(cadence: str, tz: str, after: str, expected: str) -> None:
    found = next_checkin(cadence, tz, datetime.fromisoformat(after).replace(tzinfo=UTC))
    assert found == datetime.fromisoformat(expected).replace(tzinfo=UTC)


async def test_each_check_in_is_asked_once_across_processes(db: Database) -> None:
    first, second = Team(db, MONDAY), Team(db, MONDAY)
    await first.type(ANA, SENTENCE + " checkin daily")
    for team in (first, second):
        team.clock.set(NINE)
    results = await asyncio.gather(*(kind_of(team).checkins.sweep() for team in (first, second)))
    assert sorted(results) == [0, 1]
    assert len(await asks(db)) == 1
    await first.delivery.drain()
    await second.delivery.drain()
    sent = [p for p in first.port.log + second.port.log if p.op == "direct"]
    assert len(sent) == 1


async def test_a_check_in_due_while_no_process_ran_is_skipped_past_the_grace(
    team: Team,
) -> None:
    await team.type(ANA, SENTENCE + " checkin daily")
    await team.at(NINE + timedelta(hours=3))  # the grace period is one hour
    assert await asked_dms(team, "UANA") == []
    [ask] = await asks(team.runtime.db)
    assert ask.outcome == "skipped" and ask.asked_at is None
    [h] = await hypotheses(team.runtime.db)
    assert h.next_checkin_at == NINE + timedelta(days=1)
    # Within the grace period it is still asked, late.
    await team.at(NINE + timedelta(days=1, minutes=30))
    assert len(await asked_dms(team, "UANA")) == 1


async def test_the_check_in_form_records_a_point(team: Team) -> None:
    await team.type(ANA, SENTENCE + " checkin daily")
    await team.at(NINE)
    [question] = [p for p in await team.deliver() if p.op == "direct"]
    [button] = question.message.buttons
    assert button.form and button.action_id == "hypothesis.checkin"
    form = await team.bot.open_form(ANA, None, button.action_id, button.value)
    assert getattr(form, "form_id", None) == "hypothesis.checkin"
    errors = await team.bot.submit_form(
        ANA, "hypothesis.checkin", button.value, {"status": "meh", "value": "x", "evidence": ""}
    )
    assert isinstance(errors, dict) and set(errors) == {"status", "value", "evidence"}
    assert await points(team.runtime.db) == []
    # Someone else's form for it is out of date to them: it shows nothing of it.
    other = person("UCAL", name="Cal")
    refused = await team.bot.submit_form(
        other, "hypothesis.checkin", button.value, {"status": "on-track", "value": "0.9"}
    )
    assert refused is not None and not isinstance(refused, dict)
    assert refused.message.text == "That button is out of date."
    ok = await team.bot.submit_form(
        ANA, "hypothesis.checkin", button.value, {"status": "at-risk", "value": "0.7"}
    )
    assert ok is not None and not isinstance(ok, dict)
    assert ok.message.text == "Check-in for #1 recorded: at risk · precision 0.7."
    assert await points(team.runtime.db) == [(0.7, "at-risk", "")]
    assert "Nothing is waiting" in await team.dm(ANA, "on track 0.9 more")


async def test_a_pending_stand_up_and_a_pending_check_in_never_take_each_others_answers(
    team: Team,
) -> None:
    await team.type(ANA, SENTENCE + " checkin daily")
    await team.type(ANA, "standup setup at 09:30 tz UTC")
    await team.at(NINE)  # the check-in is asked at 09:00
    team.clock.set(NINE + timedelta(minutes=30))
    await team.type(ANA, "standup now")  # then the stand-up's first question

    # The stand-up was asked last: it takes free text, even text that reads as a check-in.
    first = await team.dm(ANA, "on track 0.8 finished the eval harness")
    assert await _answers(team) == ["on track 0.8 finished the eval harness"]
    assert await points(team.runtime.db) == []
    assert "question 2 of 3" in first
    await team.dm(ANA, "more eval")
    last = await team.dm(ANA, "none")
    # The stand-up is done, so the check-in is asked again and takes the next answer.
    assert "Check-in for hypothesis #1" in last
    reply = await team.dm(ANA, "at risk 0.75 labels still noisy")
    assert reply.startswith("Check-in for #1 recorded: at risk")
    assert await _answers(team) == ["on track 0.8 finished the eval harness", "more eval", "none"]
    assert await points(team.runtime.db) == [(0.75, "at-risk", "labels still noisy")]


async def test_a_check_in_asked_after_the_stand_up_takes_the_next_answer(team: Team) -> None:
    await team.type(ANA, SENTENCE + " checkin daily")
    await team.type(ANA, "standup setup at 09:30 tz UTC")
    team.clock.set(NINE - timedelta(minutes=30))
    await team.type(ANA, "standup now")
    await team.at(NINE)  # the check-in comes after the stand-up's question
    reply = await team.dm(ANA, "on track 0.88 fewer duplicates")
    assert reply.startswith("Check-in for #1 recorded")
    assert "question 1 of 3" in reply  # the stand-up's question comes back
    assert await _answers(team) == []
    await team.dm(ANA, "wrote the eval harness")
    assert await _answers(team) == ["wrote the eval harness"]
    assert await points(team.runtime.db) == [(0.88, "on-track", "fewer duplicates")]


async def _answers(team: Team) -> list[str]:
    async with team.runtime.db.session() as session:
        rows = await session.execute(select(Answer.text).order_by(Answer.id))
        return list(rows.scalars())


async def test_after_days_without_a_process_only_the_latest_check_in_is_asked(
    team: Team,
) -> None:
    await team.type(ANA, SENTENCE + " checkin daily")
    await team.at(NINE + timedelta(days=3, minutes=20))
    assert len(await asked_dms(team, "UANA")) == 1
    [ask] = await asks(team.runtime.db)
    assert ask.due_at == NINE + timedelta(days=3) and ask.outcome == "asked"
    [h] = await hypotheses(team.runtime.db)
    assert h.next_checkin_at == NINE + timedelta(days=4)


async def test_an_hourly_cron_after_weeks_without_a_process_asks_the_latest_hour(
    team: Team,
) -> None:
    await team.type(ANA, SENTENCE + " checkin 0 * * * *")
    later = MONDAY + timedelta(days=60, minutes=20)
    await team.at(later)
    assert len(await asked_dms(team, "UANA")) == 1
    [ask] = await asks(team.runtime.db)
    assert (ask.due_at, ask.outcome) == (later.replace(minute=0), "asked")
    [h] = await hypotheses(team.runtime.db)
    assert h.next_checkin_at == later.replace(minute=0) + timedelta(hours=1)


async def test_a_stored_every_minute_cron_is_caught_up_without_walking_each_minute(
    team: Team,
) -> None:
    """A row written before crons were checked: a month later the sweep looks back only
    over the grace period, so it asks for the latest minute."""
    await team.type(ANA, SENTENCE + " checkin daily")
    async with team.runtime.db.session() as session:
        await session.execute(update(Hypothesis).values(cadence="* * * * *"))
    later = NINE + timedelta(days=30, seconds=30)
    await team.at(later)
    assert len(await asked_dms(team, "UANA")) == 1
    [ask] = await asks(team.runtime.db)
    assert (ask.due_at, ask.outcome) == (later.replace(second=0), "asked")
    [h] = await hypotheses(team.runtime.db)
    assert h.next_checkin_at == later.replace(second=0) + timedelta(minutes=1)


async def test_a_hypothesis_outlives_its_owner_s_member_row(team: Team) -> None:
    """Deleting a member (by an operator; nothing in the bot does) leaves their bets to the
    channel: shown without an owner, asked of nobody, still changed by the lead."""
    cal = person("UCAL", name="Cal")
    await known(team, cal)
    await team.type(ANA, SENTENCE + " checkin daily owner @cal")
    await team.at(NINE)
    assert len(await asked_dms(team, "UCAL")) == 1
    async with team.runtime.db.session() as session:
        await session.execute(delete(Member).where(Member.external_id == "UCAL"))
    [h] = await hypotheses(team.runtime.db)
    assert h.owner_id is None and await asks(team.runtime.db) == []
    assert "Owner nobody (they left)" in await team.type(ANA, "hypothesis show 1")
    await team.at(NINE + timedelta(days=1))
    assert [p for p in await team.deliver() if p.op == "direct"] == []
    assert "recorded" in await team.type(ANA, "hypothesis checkin 1 on-track precision=0.8 ok")
    assert "closed as pivoted" in await team.type(ANA, "hypothesis close 1 pivot")
