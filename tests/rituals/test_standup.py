"""Stand-ups end to end on the engine: prompts, answers, summaries, edits, away and export."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from storage.db import Database
from storage.models import Answer, Blocker, Occurrence, OutboxMessage, Response
from tests.helpers import CHANNEL, Posted, Team, person

MONDAY_0800 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ALICE = person("alice", "Europe/Berlin")
BOB = person("bob", "America/New_York")
QUESTIONS = ("done?", "next?", "blockers?")
CUT_OFF = timedelta(hours=8, minutes=30)  # from 09:30 to the 18:00 summary


async def team_with_standup(db: Database, *members, start: datetime = MONDAY_0800) -> Team:
    team = Team(db, start)
    await team.type(ALICE, "standup setup at 09:30 days mon-fri tz Europe/Berlin summary 18:00")
    await team.type(ALICE, "standup questions " + " | ".join(QUESTIONS))
    for member in members:
        await team.type(member, "standup join")
    await team.deliver()
    return team


async def answer_all(team: Team, who, *answers: str) -> str:
    reply = ""
    for text in answers:
        reply = await team.dm(who, text)
    return reply


def summary_in(posted: list[Posted]) -> Posted:
    return next(p for p in posted if p.op == "post" and p.text.startswith("Stand-up #"))


async def count(db: Database, model, *where) -> int:
    async with db.session() as session:
        return (
            await session.execute(select(func.count()).select_from(model).where(*where))
        ).scalar_one()


async def test_a_whole_standup_from_now_to_summary_with_answers_in_its_thread(db: Database) -> None:
    team = await team_with_standup(db, BOB)

    assert "asked 2 people" in await team.type(ALICE, "standup now")
    prompts = await team.deliver()
    assert {p.to for p in prompts if p.op == "direct"} == {"alice", "bob"}
    assert all("question 1 of 3" in p.text for p in prompts if p.op == "direct")

    assert "question 2 of 3" in await team.dm(ALICE, "trained ranker v3")
    await answer_all(team, ALICE, "eval", "waiting on GPU quota from @bob")
    assert "everything" in await answer_all(team, BOB, "data", "more data", "none")

    posted = await team.deliver()
    summary = summary_in(posted)
    assert "2/2 answered" in summary.text
    assert "Blockers" in summary.text and "waiting on GPU quota from @bob" in summary.text
    thread = [p for p in posted if p.thread == summary.ref]
    assert [p.message.text for p in thread] == ["*Alice*", "*Bob*"]
    assert "trained ranker v3" in thread[0].text


async def test_each_member_is_asked_at_the_set_time_in_their_own_timezone(db: Database) -> None:
    team = await team_with_standup(db, BOB, start=datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    ritual_id = 1

    await team.at(datetime(2026, 11, 23, 8, 30, tzinfo=UTC))  # 09:30 in Berlin, 03:30 in New York
    assert await team.standups.prompt_due(ritual_id, "Europe/Berlin") == 1
    assert await team.standups.prompt_due(ritual_id, "America/New_York") == 0
    assert [p.to for p in await team.deliver()] == ["alice"]

    await team.at(datetime(2026, 11, 23, 14, 30, tzinfo=UTC))  # 09:30 in New York
    assert await team.standups.prompt_due(ritual_id, "America/New_York") == 1
    posted = await team.deliver()
    assert [p.to for p in posted if "Hi " in p.text] == ["bob"]
    assert [p.to for p in posted if "Reminder" in p.text] == ["alice"]
    assert await count(db, Occurrence) == 1


async def test_the_summary_waits_for_the_cut_off_when_someone_has_not_answered(
    db: Database,
) -> None:
    team = await team_with_standup(db, BOB)
    await team.type(ALICE, "standup now")
    await answer_all(team, ALICE, "a", "b", "none")
    await team.deliver()

    await team.advance(CUT_OFF - timedelta(minutes=1))
    assert not [p for p in await team.deliver() if p.text.startswith("Stand-up #")]

    await team.advance(timedelta(minutes=1))
    posted = await team.deliver()
    summary = summary_in(posted)
    assert "1/2 answered" in summary.text
    assert "No answer yet: Bob" in summary.text


async def test_non_responders_get_exactly_one_reminder(db: Database) -> None:
    team = await team_with_standup(db, BOB)
    await team.type(ALICE, "standup now")
    await answer_all(team, ALICE, "a", "b", "none")
    await team.deliver()

    await team.advance(timedelta(minutes=89))
    assert await team.deliver() == []
    await team.advance(timedelta(minutes=1))
    reminders = await team.deliver()
    assert [(p.to, "Reminder" in p.text) for p in reminders] == [("bob", True)]
    await team.advance(timedelta(minutes=30))
    assert [p for p in await team.deliver() if p.to == "bob"] == []


async def test_a_late_answer_goes_into_the_summary_thread(db: Database) -> None:
    team = await team_with_standup(db, BOB)
    await team.type(ALICE, "standup now")
    await answer_all(team, ALICE, "a", "b", "none")
    await team.advance(CUT_OFF)
    summary = summary_in(await team.deliver())

    reply = await answer_all(team, BOB, "late work", "more", "none")
    assert "thread" in reply
    late = [p for p in await team.deliver() if p.thread is not None]
    assert len(late) == 1
    assert late[0].thread == summary.ref
    assert "(late)" in late[0].text and "late work" in late[0].text


async def test_answers_are_editable_until_the_summary_and_only_by_their_author(
    db: Database,
) -> None:
    team = await team_with_standup(db, BOB)
    await team.type(ALICE, "standup now")
    await team.bot.direct_message(ALICE, "frist draft", ref="msg-1")
    await team.bot.direct_message(ALICE, "next", ref="msg-2")

    assert "Updated" in (await team.bot.message_edited(ALICE, "msg-1", "first draft")).message.text
    assert await team.bot.message_edited(BOB, "msg-2", "hijack") is None
    assert "Updated" in await team.type(ALICE, "standup edit 2 the next thing")
    assert "not answered question 3" in await team.type(ALICE, "standup edit 3 nothing")

    async with db.session() as session:
        texts = (
            await session.execute(select(Answer.text).order_by(Answer.question_index))
        ).scalars()
        assert list(texts) == ["first draft", "the next thing"]

    await team.dm(ALICE, "none")
    await team.advance(CUT_OFF)
    assert "no longer be edited" in await team.type(ALICE, "standup edit 1 too late")


async def test_editing_the_blocker_answer_updates_the_ledger(db: Database) -> None:
    team = await team_with_standup(db, BOB)
    await team.type(ALICE, "standup now")
    await answer_all(team, ALICE, "a", "b", "waiting on data")
    await team.type(ALICE, "standup edit 3 waiting on labelled data from @bob")
    async with db.session() as session:
        blocker = (await session.execute(select(Blocker))).scalar_one()
    assert (blocker.text, blocker.unblocker) == ("waiting on labelled data from @bob", "bob")

    await team.type(ALICE, "standup edit 3 none")
    assert await count(db, Blocker, Blocker.resolved_at.is_(None)) == 0


async def test_a_blocker_is_carried_with_its_age_and_escalated_once(db: Database) -> None:
    team = await team_with_standup(db, BOB)
    summaries = []
    for day, blocker_answer in enumerate(
        ["waiting on GPU quota from @bob", "same", "still blocked", "same"]
    ):
        morning = MONDAY_0800 + timedelta(days=day)
        await team.at(morning)
        await team.type(ALICE, "standup now")
        await answer_all(team, ALICE, "work", "more work", blocker_answer)
        await answer_all(team, BOB, "x", "y", "none")
        posted = await team.deliver()
        summaries.append(summary_in(posted))
        escalations = [p for p in posted if "Escalation" in p.text]
        assert len(escalations) == (1 if day == 3 else 0), f"day {day}"
        if escalations:
            assert escalations[0].to == "bob" and "open 3 days" in escalations[0].text

    ages = ["new today", "1 day old", "2 days old", "3 days old"]
    for summary, age in zip(summaries, ages, strict=True):
        assert f"#1 Alice: waiting on GPU quota from @bob ({age})" in summary.text
    assert await count(db, Blocker) == 1

    await team.at(MONDAY_0800 + timedelta(days=4))
    await team.type(ALICE, "standup now")
    await answer_all(team, ALICE, "w", "w", "same")
    await answer_all(team, BOB, "x", "y", "none")
    assert not [p for p in await team.deliver() if "Escalation" in p.text]


async def test_a_blocker_is_resolved_by_command_button_or_a_later_answer(db: Database) -> None:
    team = await team_with_standup(db, BOB)
    await team.type(ALICE, "standup now")
    await answer_all(team, ALICE, "a", "b", "need access to the bucket")
    await answer_all(team, BOB, "a", "b", "waiting for the labelling vendor")

    assert "Only the person" in await team.type(BOB, "standup resolve 1")
    assert "resolved by Alice" in await team.type(ALICE, "standup resolve 1")
    assert "already resolved" in await team.type(ALICE, "standup resolve 1")
    assert "no blocker #99" in await team.type(ALICE, "standup resolve 99")

    await team.at(MONDAY_0800 + timedelta(days=1))
    await team.type(ALICE, "standup now")
    await answer_all(team, BOB, "a", "b", "resolved")
    assert await count(db, Blocker, Blocker.resolved_at.is_(None)) == 0
    assert "No open blockers" in await team.type(ALICE, "standup blockers")


async def test_an_answer_resolves_the_blocker_it_names_or_all_of_its_authors(
    db: Database,
) -> None:
    team = await team_with_standup(db, BOB)
    for day, (alice, bob) in enumerate([("quota", "vendor"), ("none", "GPU queue")]):
        await team.at(MONDAY_0800 + timedelta(days=day))
        await team.type(ALICE, "standup now")
        await answer_all(team, ALICE, "a", "b", alice)
        await answer_all(team, BOB, "a", "b", bob)

    async def still_open() -> list[str]:
        async with db.session() as session:
            rows = await session.execute(
                select(Blocker.text).where(Blocker.resolved_at.is_(None)).order_by(Blocker.id)
            )
            return list(rows.scalars())

    assert await still_open() == ["quota", "vendor", "GPU queue"]
    async with db.session() as session:
        vendor = (
            await session.execute(select(Blocker.id).where(Blocker.text == "vendor"))
        ).scalar_one()
    await team.at(MONDAY_0800 + timedelta(days=2))
    await team.type(ALICE, "standup now")
    await answer_all(team, BOB, "a", "b", f"resolved #{vendor}")
    assert await still_open() == ["quota", "GPU queue"]

    await team.at(MONDAY_0800 + timedelta(days=3))
    await team.type(ALICE, "standup now")
    await answer_all(team, BOB, "a", "b", "resolved")
    assert await still_open() == ["quota"], "only Bob's own blockers are resolved"


async def test_a_member_away_for_a_week_is_not_prompted(db: Database) -> None:
    team = await team_with_standup(db, BOB)
    assert "away until" in await team.type(BOB, "standup away until 2026-11-29")
    for day in range(5):
        await team.at(MONDAY_0800 + timedelta(days=day))
        await team.type(ALICE, "standup now")
        await answer_all(team, ALICE, "a", "b", "none")
        posted = await team.deliver()
        assert not [p for p in posted if p.to == "bob"], f"day {day}"
        summary = summary_in(posted)
        assert "Away: Bob" in summary.text and "1/1 answered" in summary.text

    await team.at(MONDAY_0800 + timedelta(days=7))
    await team.type(ALICE, "standup now")
    assert "bob" in {p.to for p in await team.deliver()}


async def test_the_export_csv_reads_back_every_answer(db: Database) -> None:
    team = await team_with_standup(db, BOB)
    await team.type(ALICE, "standup now")
    await answer_all(team, ALICE, "=SUM(A1:A9)", "plan, with a comma", 'quote "this"')
    await answer_all(team, BOB, "b1", "b2", "none")
    await team.deliver()

    reply = await team.bot.command(ALICE, CHANNEL, "standup export 2026-11-01 2026-11-30")
    attachment = reply.message.attachment
    assert attachment is not None and attachment.filename == "standup-ml-team.csv"
    rows = list(csv.DictReader(io.StringIO(attachment.content)))
    assert len(rows) == 6
    alice_rows = [r for r in rows if r["member_id"] == "alice"]
    assert [r["answer"] for r in alice_rows] == [
        "'=SUM(A1:A9)",
        "plan, with a comma",
        'quote "this"',
    ]
    assert {r["date"] for r in rows} == {"2026-11-23"}
    assert [r["question"] for r in alice_rows] == list(QUESTIONS)

    empty = await team.bot.command(ALICE, CHANNEL, "standup export 2027-01-01 2027-01-31")
    assert empty.message.attachment.content.count("\n") == 1


async def test_status_lists_participants_by_name_with_their_zones(db: Database) -> None:
    nameless = replace(person("U0zed", "Asia/Tokyo"), name="")
    team = await team_with_standup(db, BOB, person("carol", "UTC", name="carol"), nameless)

    status = await team.type(ALICE, "standup status")

    assert (
        "*Participants*: Alice (Europe/Berlin), Bob (America/New_York), carol (UTC), "
        "U0zed (Asia/Tokyo)"
    ) in status


async def test_skip_pause_and_status_change_what_runs(db: Database) -> None:
    team = await team_with_standup(db, BOB)
    assert "past" in await team.type(ALICE, "standup skip 2026-11-01")
    assert "Next: Mon 23 Nov 09:30" in await team.type(ALICE, "standup status")
    assert "No stand-up on Mon 23 Nov 2026" in await team.type(ALICE, "standup skip 2026-11-23")
    status = await team.type(ALICE, "standup status")
    assert "2026-11-23" in status and "Next: Tue 24 Nov 09:30" in status

    await team.type(ALICE, "standup pause")
    assert "Paused" in await team.type(ALICE, "standup status")
    await team.at(datetime(2026, 11, 24, 8, 30, tzinfo=UTC))
    assert await team.standups.prompt_due(1, "Europe/Berlin") == 0
    await team.type(ALICE, "standup resume")
    assert await team.standups.prompt_due(1, "Europe/Berlin") == 1


async def test_report_counts_participation_and_open_blockers(db: Database) -> None:
    team = await team_with_standup(db, BOB)
    for day in range(2):
        await team.at(MONDAY_0800 + timedelta(days=day))
        await team.type(ALICE, "standup now")
        await answer_all(team, ALICE, "a", "b", "stuck on auth" if day == 0 else "same")
        if day == 0:
            await answer_all(team, BOB, "a", "b", "none")
        await team.advance(CUT_OFF)
    report = await team.type(ALICE, "standup report 7")
    assert "participation 75%" in report
    assert "Alice: 2/2 (100%)" in report and "Bob: 1/2 (50%)" in report
    assert "*Open blockers* (1, oldest 1 day old)" in report


async def test_commands_without_a_standup_explain_how_to_start_one(db: Database) -> None:
    team = Team(db, MONDAY_0800)
    for command in ("standup now", "standup join", "standup status", "standup report"):
        assert "no stand-up in this channel" in (await team.type(BOB, command)).lower()
    assert await count(db, Occurrence) == 0


async def test_an_answer_with_nothing_asked_says_so(db: Database) -> None:
    team = await team_with_standup(db)
    assert "Nothing is waiting for your answer" in await team.dm(ALICE, "hello?")
    assert await count(db, Response) == 0


async def test_summary_is_posted_once_when_two_sweeps_race(db: Database) -> None:
    team = await team_with_standup(db, BOB)
    await team.type(ALICE, "standup now")
    team.clock.advance(CUT_OFF)
    await team.standups.sweep()
    await team.standups.sweep()
    assert await count(db, OutboxMessage, OutboxMessage.dedup_key.like("summary:%")) == 1


async def test_a_channel_can_choose_the_full_summary_and_its_escalation_age(db: Database) -> None:
    team = await team_with_standup(db, BOB)
    reply = await team.type(ALICE, "standup setup format full escalate 5")
    assert "answers in the summary;" in reply and "over 5 days" in reply
    await team.type(ALICE, "standup now")
    await answer_all(team, ALICE, "trained", "evaluate", "none")
    await answer_all(team, BOB, "cleaned", "label", "none")
    posted = await team.deliver()
    summary = summary_in(posted)
    assert "trained" in summary.text and "cleaned" in summary.text
    assert not [p for p in posted if p.thread == summary.ref]


async def test_holidays_and_weekends_start_nothing(db: Database) -> None:
    team = Team(db, datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    await team.type(BOB, "standup setup at 09:30 tz America/New_York")
    assert "skips US public holidays" in await team.type(BOB, "standup status")
    started = {}
    for day in range(25, 31):  # Wednesday to Monday, Thanksgiving on Thursday
        await team.at(datetime(2026, 11, day, 14, 45, tzinfo=UTC))  # 09:45 in New York
        started[day] = await team.standups.catch_up()
    assert started == {25: 1, 26: 0, 27: 1, 28: 0, 29: 0, 30: 1}
    async with db.session() as session:
        days = (await session.execute(select(Occurrence.local_date).order_by(Occurrence.id))).all()
    assert [d.isoformat() for (d,) in days] == ["2026-11-25", "2026-11-27", "2026-11-30"]


async def test_wrong_words_get_replies_that_say_what_is_wrong(db: Database) -> None:
    team = Team(db, datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    assert "There is no stand-up in this channel yet" in await team.type(ALICE, "standup edit 9 x")
    nothing = await team.dm(ALICE, "frobnicate")
    assert "Nothing is waiting for your answer" in nothing
    assert "As a command: unknown command 'frobnicate'" in nothing
    assert "there is no #0" in await team.type(ALICE, "standup resolve 0")
