"""Answers land where they belong: right stand-up, right question, once, even when racing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError

from rituals import outbound
from rituals.identity import Place
from storage.db import Database
from storage.models import (
    Answer,
    Blocker,
    Member,
    Occurrence,
    OutboxMessage,
    Response,
    Ritual,
)
from tests.helpers import CHANNEL, Team, person

MONDAY_0700 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
ALICE = person("alice", "Europe/London")
BOB = person("bob", "America/New_York")
CAROL = person("carol", "Europe/London")
DAVE = person("dave", "Europe/London")
INFRA = Place("C2", "infra")


async def standup(
    team: Team, place: Place = CHANNEL, questions: str = "done? | next? | blockers?"
) -> None:
    await team.bot.command(ALICE, place, "standup setup at 09:30 tz Europe/London summary 12:30")
    await team.bot.command(ALICE, place, f"standup questions {questions}")


async def answers(db: Database) -> list[tuple[str, str]]:
    async with db.session() as session:
        rows = await session.execute(select(Answer.question, Answer.text).order_by(Answer.id))
        return [tuple(r) for r in rows.all()]


async def test_members_west_of_the_channel_are_asked_before_the_summary(db: Database) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team)
    await team.type(BOB, "standup join")
    await team.at(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    assert await team.standups.prompt_due(1, "Europe/London") == 1
    for text in ("a", "b", "none"):
        await team.dm(ALICE, text)
    await team.at(datetime(2026, 11, 23, 12, 30, tzinfo=UTC))  # 12:30 in London
    assert not [p for p in await team.deliver() if p.text.startswith("Stand-up #")]

    await team.at(datetime(2026, 11, 23, 14, 30, tzinfo=UTC))  # 09:30 in New York
    assert await team.standups.prompt_due(1, "America/New_York") == 1
    await team.at(datetime(2026, 11, 23, 16, 0, tzinfo=UTC))
    reminded = [p for p in await team.deliver() if p.to == "bob"]
    assert len(reminded) == 2 and "Reminder" in reminded[1].text
    await team.at(datetime(2026, 11, 23, 17, 30, tzinfo=UTC))  # 12:30 in New York
    summary = [p for p in await team.deliver() if p.text.startswith("Stand-up #")]
    assert len(summary) == 1 and "1/2 answered" in summary[0].text


async def test_someone_in_two_standups_answers_them_one_after_the_other(db: Database) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team, CHANNEL, "ml done? | ml next? | ml blockers?")
    await standup(team, INFRA, "infra done? | infra next? | infra blockers?")
    await team.type(BOB, "standup join")  # keeps #ml-team from closing early
    await team.bot.command(ALICE, CHANNEL, "standup now")
    team.clock.advance(timedelta(minutes=1))
    await team.bot.command(ALICE, INFRA, "standup now")

    await team.dm(ALICE, "trained")
    await team.dm(ALICE, "evaluate")
    finished = await team.dm(ALICE, "waiting on GPUs")
    assert "everything for #ml-team" in finished and "#infra — question 1 of 3" in finished
    for text in ("patched", "upgrade", "none"):
        await team.dm(ALICE, text)

    assert await answers(db) == [
        ("ml done?", "trained"),
        ("ml next?", "evaluate"),
        ("ml blockers?", "waiting on GPUs"),
        ("infra done?", "patched"),
        ("infra next?", "upgrade"),
        ("infra blockers?", "none"),
    ]
    async with db.session() as session:
        ledger = (await session.execute(select(Blocker.ritual_id, Blocker.text))).all()
        ml = (
            await session.execute(select(Ritual.id).where(Ritual.channel.has(name="ml-team")))
        ).scalar_one()
    assert [tuple(r) for r in ledger] == [(ml, "waiting on GPUs")]


async def test_an_answer_that_starts_like_a_command_is_still_an_answer(db: Database) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team)
    await team.type(ALICE, "standup now")
    await team.type(BOB, "standup join")
    await team.dm(ALICE, "Help Maria debug the eval harness")
    await team.dm(ALICE, "Backlog")
    assert "Your stand-ups" in await team.dm(ALICE, "/standup status")
    asked = await team.dm(ALICE, "retro start prep for Thursday")
    assert asked.startswith("“retro start prep for Thursday” reads like a command.")
    assert "[Run it]  [It's my answer]" in asked
    await team.bot.action(ALICE, None, "ritualbot.answer", "retro start prep for Thursday")
    assert [text for _, text in await answers(db)] == [
        "Help Maria debug the eval harness",
        "Backlog",
        "retro start prep for Thursday",
    ]
    assert "Updated" in await team.dm(ALICE, "standup edit 2 Backlog grooming with the PM")


async def test_a_command_typed_while_a_question_waits_runs_when_the_person_says_so(
    db: Database,
) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team)
    await team.type(ALICE, "standup now")
    await team.dm(ALICE, "standup setup at 10:00")
    await team.bot.action(ALICE, CHANNEL, "ritualbot.command", "standup setup at 10:00")
    assert await answers(db) == []
    assert "10:00" in await team.type(ALICE, "standup status")


async def test_help_skip_and_cancel_alone_are_commands_while_a_question_waits(
    db: Database,
) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team)
    await team.type(BOB, "standup join")
    await team.type(ALICE, "standup now")

    assert (await team.dm(ALICE, "help")).startswith("Commands:")
    status = await team.type(ALICE, "standup status")
    assert "*Waiting for your answer* (#ml-team, question 1 of 3): done?" in status
    await team.dm(ALICE, "shipped the ranker")
    assert "Thanks, that's everything" in await team.dm(ALICE, "skip")
    assert [text for _, text in await answers(db)] == [
        "shipped the ranker",
        "(skipped)",
        "(skipped)",
    ]
    assert "Stopped today's #ml-team stand-up for you" in await team.dm(BOB, "cancel")
    summary = [p for p in await team.deliver() if p.text.startswith("Stand-up #ml-team")]
    assert summary and "Bob" not in summary[0].message.text
    assert "nothing to skip" in await team.dm(BOB, "skip")


async def test_skipping_the_blocker_question_opens_no_blocker(db: Database) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team)
    await team.type(ALICE, "standup now")
    await team.dm(ALICE, "shipped the ranker")
    await team.dm(ALICE, "skip")
    async with db.session() as session:
        assert (await session.execute(select(Blocker))).first() is None
    assert "No open blockers" in await team.type(ALICE, "standup blockers")
    summary = [p for p in await team.deliver() if p.text.startswith("Stand-up #ml-team")]
    assert "1/1 answered, no blockers" in summary[0].text
    assert "Resolve #" not in summary[0].text


async def test_a_cancelled_run_counts_as_asked_and_not_answered_in_summary_and_status(
    db: Database,
) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team)
    await team.type(BOB, "standup join")
    await team.type(ALICE, "standup now")
    for text in ("trained", "evaluate", "none"):
        await team.dm(ALICE, text)
    await team.dm(BOB, "patched the loader")
    await team.dm(BOB, "cancel")
    summary = next(p for p in await team.deliver() if p.text.startswith("Stand-up #ml-team"))
    assert "1/2 answered" in summary.message.text
    assert summary.message.context is not None
    assert "Stopped today: Bob" in summary.message.context
    assert "Away" not in summary.message.context
    assert "*Latest* (Mon 23 Nov): 1/2 answered (1 stopped), summary posted" in await team.type(
        ALICE, "standup status"
    )


async def test_a_malformed_command_with_nothing_asked_gets_usage_help(db: Database) -> None:
    team = Team(db, MONDAY_0700)
    assert "Sorry" in await team.dm(ALICE, "standup setup at 99:00")


async def test_standup_now_and_the_schedule_share_one_run_per_day(db: Database) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team)
    await team.type(ALICE, "standup now")
    await team.at(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    assert await team.standups.prompt_due(1, "Europe/London") == 0
    for text in ("a", "b", "none"):
        await team.dm(ALICE, text)
    assert "already ran" in await team.type(ALICE, "standup now")
    async with db.session() as session:
        assert (
            await session.execute(select(func.count()).select_from(Occurrence))
        ).scalar_one() == 1


async def test_changing_the_questions_mid_standup_does_not_break_answers(db: Database) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team, questions="q1 | q2 | q3 | blockers?")
    await team.type(BOB, "standup join")
    await team.type(ALICE, "standup now")
    await team.dm(ALICE, "a1")
    await team.dm(ALICE, "a2")
    await team.type(ALICE, "standup questions only one?")
    await team.dm(ALICE, "a3")
    await team.dm(ALICE, "none")
    assert [q for q, _ in await answers(db)] == ["q1", "q2", "q3", "blockers?"]


async def test_two_quick_messages_become_two_answers(db: Database) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team)
    await team.type(BOB, "standup join")
    await team.type(ALICE, "standup now")
    await asyncio.gather(team.dm(ALICE, "first"), team.dm(ALICE, "second"))
    assert sorted(q for q, _ in await answers(db)) == ["done?", "next?"]


async def test_a_last_answer_racing_the_summary_is_never_lost(db: Database) -> None:
    for round_ in range(4):
        team = Team(db, MONDAY_0700 + timedelta(days=7 * round_))
        if round_ == 0:
            await standup(team)
            await team.type(BOB, "standup join")
        await team.type(ALICE, "standup now")
        await team.dm(ALICE, "a")
        await team.dm(ALICE, "b")
        team.clock.advance(timedelta(hours=3, minutes=30))
        await asyncio.gather(team.dm(ALICE, "none"), team.standups.sweep())
        posted = await team.deliver()
        summary = next(p for p in posted if p.text.startswith("Stand-up #"))
        in_thread = [p.text for p in posted if p.thread == summary.ref]
        assert (
            any("Alice" in text for text in in_thread)
            or "Alice" not in summary.text.split("No answer yet")[0]
        ), f"round {round_}: Alice's answers are neither in the summary nor its thread"
        assert any("Alice" in text for text in in_thread), f"round {round_}"


async def test_edits_by_message_are_scoped_to_their_author(db: Database) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team)
    await team.type(BOB, "standup join")
    await team.type(ALICE, "standup now")
    await team.bot.direct_message(ALICE, "mine", ref="ts-1")
    await team.bot.direct_message(BOB, "his", ref="ts-1")
    reply = await team.bot.message_edited(ALICE, "ts-1", "mine, edited")
    assert "Updated" in reply.message.text
    assert sorted(text for _, text in await answers(db)) == ["his", "mine, edited"]
    async with db.session() as session:
        failed = await session.execute(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "dead")
        )
        assert failed.scalar_one() == 0


async def test_a_second_standups_first_question_waits_for_the_first_to_finish(
    db: Database,
) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team, CHANNEL, "ml done? | ml blockers?")
    await standup(team, INFRA, "infra done? | infra blockers?")
    await team.type(BOB, "standup join")
    await team.bot.command(ALICE, CHANNEL, "standup now")
    await team.bot.command(ALICE, INFRA, "standup now")
    to_alice = [p.text for p in await team.deliver() if p.to == "alice"]
    assert [t.split(":")[0] for t in to_alice] == [
        "Hi Alice! Stand-up for #ml-team — question 1 of 2"
    ]


async def test_a_late_run_does_not_take_answers_meant_for_an_open_one(db: Database) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team, CHANNEL, "ml done? | ml blockers?")
    await team.bot.command(BOB, CHANNEL, "standup join")
    await team.bot.command(ALICE, CHANNEL, "standup now")
    await team.advance(timedelta(hours=4))  # #ml-team summarized; Alice never answered
    await standup(team, INFRA, "infra done? | infra blockers?")
    await team.bot.command(ALICE, INFRA, "standup now")
    await team.dm(ALICE, "patched the k8s nodes")
    assert await answers(db) == [("infra done?", "patched the k8s nodes")]


async def test_late_answers_are_taken_for_twelve_hours_after_the_summary(db: Database) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team)
    await team.type(BOB, "standup join")
    await team.type(ALICE, "standup now")
    await team.advance(timedelta(hours=4))
    await team.advance(timedelta(hours=11, minutes=59))
    await team.dm(BOB, "late but here")
    await team.advance(timedelta(minutes=2))
    assert "Nothing is waiting for your answer" in await team.dm(ALICE, "good morning")
    assert [text for _, text in await answers(db)] == ["late but here"]


async def test_reminders_skip_people_who_went_away_or_left(db: Database) -> None:
    carol = person("carol", "Europe/London")
    team = Team(db, MONDAY_0700)
    await standup(team)
    for member in (BOB, carol):
        await team.type(member, "standup join")
    await team.type(ALICE, "standup now")
    await team.type(BOB, "standup away")
    await team.type(carol, "standup leave")
    await team.deliver()
    await team.advance(timedelta(minutes=90))
    assert [p.to for p in await team.deliver() if "Reminder" in p.text] == ["alice"]


async def test_a_missed_run_revived_later_gives_everyone_time_to_answer(db: Database) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team)
    await team.type(BOB, "standup join")
    await team.at(datetime(2026, 11, 23, 11, 0, tzinfo=UTC))  # down at 09:30 London
    assert await team.standups.catch_up() == 0
    await team.at(datetime(2026, 11, 23, 14, 30, tzinfo=UTC))  # 09:30 New York
    assert await team.standups.prompt_due(1, "America/New_York") == 1
    await team.at(datetime(2026, 11, 23, 14, 45, tzinfo=UTC))
    assert not [p for p in await team.deliver() if p.text.startswith("Stand-up #")]

    assert "asked 1 person" in await team.type(ALICE, "standup now")
    await team.advance(timedelta(minutes=5))
    assert not [p for p in await team.deliver() if p.text.startswith("Stand-up #")]


async def test_quick_last_messages_and_simultaneous_last_answers_do_not_deadlock(
    db: Database,
) -> None:
    carol = person("carol", "Europe/London")
    for week in range(3):
        team = Team(db, MONDAY_0700 + timedelta(days=7 * week))
        if week == 0:
            await standup(team, questions="done? | blockers?")
            for member in (BOB, carol):
                await team.type(member, "standup join")
        await team.type(ALICE, "standup now")
        await team.dm(BOB, "x")
        await team.dm(BOB, "none")
        await team.dm(carol, "y")
        await team.dm(ALICE, "a")
        await asyncio.gather(
            team.dm(ALICE, "none"), team.dm(ALICE, "oh and thanks"), team.dm(carol, "none")
        )
        await team.standups.sweep()
        summary = [p for p in await team.deliver() if p.text.startswith("Stand-up #")]
        assert len(summary) == 1 and "3/3 answered" in summary[0].text, f"week {week}"


async def test_a_near_miss_of_a_command_gets_a_suggestion_not_an_answer(db: Database) -> None:
    team = Team(db, MONDAY_0700)
    reply = await team.dm(ALICE, "standpu now")
    assert "did you mean 'standup'?" in reply
    assert "Nothing is waiting for your answer" in await team.dm(ALICE, "hello there")


async def test_an_answer_longer_than_a_message_can_show_is_refused_and_the_question_waits(
    db: Database,
) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team)
    await team.type(ALICE, "standup now")

    refused = await team.dm(ALICE, "x" * 10_000)
    assert refused.startswith("Sorry — that answer is 10,000 characters; the limit is 3,000.")
    assert "question 2 of 3" in await team.dm(ALICE, "y" * 3_000)
    async with db.session() as session:
        stored = list((await session.execute(select(Answer.text))).scalars())
    assert stored == ["y" * 3_000]


async def test_a_cut_off_on_another_day_says_which_day(db: Database) -> None:
    team = Team(db, datetime(2026, 11, 23, 19, 35, tzinfo=UTC))
    await team.type(ALICE, "standup setup at 09:30 tz Europe/London summary 23:59")
    await team.type(BOB, "standup join")
    await team.type(ALICE, "standup now")
    for text in ("a", "b"):
        await team.dm(ALICE, text)
    assert "until the summary (~tomorrow 10:04, your time)" in await team.dm(ALICE, "none")


async def test_status_shows_the_question_owed_next_while_an_answer_is_being_recorded(
    pg_db: Database,
) -> None:
    team = Team(pg_db, MONDAY_0700)
    await standup(team)
    await team.type(ALICE, "standup now")
    await team.dm(ALICE, "shipped the ranker")
    async with pg_db.session() as answering:  # another answer of hers, mid-transaction
        await answering.execute(select(Response).with_for_update())
        status = await asyncio.wait_for(team.type(ALICE, "standup status"), 5)
    assert "*Waiting for your answer* (#ml-team, question 2 of 3)" in status


async def test_an_answer_being_filed_holds_its_response_and_keeps_its_run_from_closing(
    pg_db: Database,
) -> None:
    """Found with one statement, the response is locked against a second answer and its run
    against the summary's update until the answer commits; other answers to the run go on."""
    team = Team(pg_db, MONDAY_0700)
    await standup(team)
    await team.type(ALICE, "standup now")

    async def meanwhile(statement: str) -> None:
        async with pg_db.engine.begin() as other:
            await other.execute(sql("SET LOCAL lock_timeout = '200ms'"))
            await other.execute(sql(statement))

    async with pg_db.session() as session:
        alice = select(Member).where(Member.external_id == "alice")
        member = (await session.execute(alice)).scalar_one()
        owed = await team.standups.engine.answering.pending(session, member, team.clock.now())
        assert owed is not None
        response = await session.get_one(Response, owed.response_id)
        occurrence = await session.get_one(Occurrence, owed.occurrence_id)
        assert (owed.occurrence_id, owed.ritual_id) == (
            response.occurrence_id,
            occurrence.ritual_id,
        )
        closing = f"UPDATE occurrence SET status = 'closed' WHERE id = {occurrence.id}"
        for blocked in (closing, f"SELECT id FROM response WHERE id = {response.id} FOR SHARE"):
            with pytest.raises(DBAPIError, match="lock timeout"):
                await meanwhile(blocked)
        await meanwhile(f"SELECT id FROM occurrence WHERE id = {occurrence.id} FOR SHARE")
    await meanwhile(closing)


async def test_an_answer_being_filed_leaves_the_next_stand_up_owed_unlocked(
    pg_db: Database,
) -> None:
    """Only the stand-up being answered is locked: the reminder sweep, which locks what
    it reminds about in one transaction, must never wait on an answer to another run (it
    then crossed the answer and one of them failed)."""
    team = Team(pg_db, MONDAY_0700)
    await standup(team, CHANNEL, "ml done? | ml next?")
    await standup(team, INFRA, "infra done? | infra next?")
    await team.bot.command(ALICE, CHANNEL, "standup now")
    team.clock.advance(timedelta(minutes=1))
    await team.bot.command(ALICE, INFRA, "standup now")

    async with pg_db.session() as session:
        alice = select(Member).where(Member.external_id == "alice")
        member = (await session.execute(alice)).scalar_one()
        owed = await team.standups.engine.answering.pending(session, member, team.clock.now())
        assert owed is not None and owed.where.channel_name == "ml-team"
        async with pg_db.engine.begin() as other:
            await other.execute(sql("SET LOCAL lock_timeout = '200ms'"))
            others = await other.execute(
                sql(
                    f"SELECT id FROM response WHERE member_id = {member.id} "
                    f"AND id <> {owed.response_id} FOR UPDATE"
                )
            )
            assert len(others.all()) == 1


async def one_answer_left_each(db: Database) -> Team:
    """A stand-up of Alice and Bob, each with only the last question still to answer."""
    team = Team(db, MONDAY_0700)
    await standup(team)
    await team.type(BOB, "standup join")
    await team.type(ALICE, "standup now")
    for text in ("shipped", "ranking"):
        await team.dm(ALICE, text)
        await team.dm(BOB, text)
    return team


async def test_the_last_two_answers_committed_together_still_send_the_summary(
    pg_db: Database,
) -> None:
    """Filed in transactions open at the same time, each of the last two answers sees the
    other's stand-up unfinished; the one committed second finds the run done once it has
    committed, so the summary goes out then, not at the next sweep."""
    team = await one_answer_left_each(pg_db)
    alice_filed, bob_committed = asyncio.Event(), asyncio.Event()

    async def alice_last() -> str:
        async with pg_db.batch():
            reply = await team.dm(ALICE, "none")
            alice_filed.set()
            await bob_committed.wait()
        return reply

    alice = asyncio.create_task(alice_last())
    await asyncio.wait_for(alice_filed.wait(), 5)
    async with pg_db.batch():
        bob = await team.dm(BOB, "none")
    assert [p.text for p in await team.deliver() if p.text.startswith("Stand-up #")] == []
    bob_committed.set()
    await asyncio.wait_for(alice, 5)

    assert "Thanks, that's everything for #ml-team!" in bob
    assert "Thanks, that's everything for #ml-team!" in await alice
    summaries = [p for p in await team.deliver() if p.text.startswith("Stand-up #")]
    assert len(summaries) == 1


def looks_at_runs(team: Team) -> list[int]:
    """The runs looked at after an answer's commit, in order, as the closer is asked."""
    closer = team.standups.engine.closing
    looked: list[int] = []
    look = closer.close_if_complete

    async def noting(occurrence_id: int) -> None:
        looked.append(occurrence_id)
        await look(occurrence_id)

    closer.close_if_complete = noting  # type: ignore[method-assign]
    return looked


async def test_the_run_is_looked_at_again_after_the_commit_only_when_few_are_left(
    db: Database,
) -> None:
    """The look after the commit is for the last answers: with more people left than could
    be answering at the same moment, finishing one's stand-up costs no extra look."""
    team = Team(db, MONDAY_0700)
    team.standups.engine.closing.look_again_within = 2
    await standup(team)
    for other in (BOB, CAROL, DAVE):
        await team.type(other, "standup join")
    await team.type(ALICE, "standup now")
    for text in ("shipped", "ranking"):
        for who in (ALICE, BOB):
            await team.dm(who, text)
    looked = looks_at_runs(team)
    await team.dm(ALICE, "none")  # bob, carol and dave still to finish
    assert looked == []
    await team.dm(BOB, "none")  # carol and dave
    assert len(looked) == 1


async def test_a_batch_looks_at_a_run_once_however_many_answers_finished_in_it(
    db: Database,
) -> None:
    """Answers filed together commit together: one look at their run after the commit does
    for all of them, and it wakes delivery once the summary it sent is queued."""
    team = await one_answer_left_each(db)
    looked = looks_at_runs(team)
    woken: list[int] = []
    team.runtime.sent_later = lambda: db.after_commit(lambda: woken.append(outbound.stored()))
    async with db.batch():
        await team.dm(ALICE, "none")
        await team.dm(BOB, "none")
        assert looked == []
    assert len(looked) == 1
    assert woken[-1] == outbound.stored()
    summaries = [p for p in await team.deliver() if p.text.startswith("Stand-up #")]
    assert len(summaries) == 1


async def missing_now(team: Team, db: Database) -> int | None:
    closer = team.standups.engine.closing
    async with db.session() as session:
        occurrence = (await session.execute(select(Occurrence))).scalar_one()
        return await closer.still_missing(
            session, occurrence.ritual_id, occurrence.id, occurrence.local_date
        )


async def test_those_still_missing_are_the_unfinished_and_the_not_yet_asked_but_not_the_away(
    db: Database,
) -> None:
    team = Team(db, MONDAY_0700)
    await standup(team)
    for other in (BOB, CAROL):
        await team.type(other, "standup join")
    await team.type(ALICE, "standup now")
    await team.type(DAVE, "standup join")  # joined after the prompts: expected, not asked
    assert await missing_now(team, db) == 4
    await team.type(CAROL, "standup away")
    assert await missing_now(team, db) == 3
    for text in ("shipped", "ranking", "none"):
        await team.dm(ALICE, text)
    assert await missing_now(team, db) == 2, "bob, who has not finished, and dave"
    closer = team.standups.engine.closing
    closer.look_again_within = 0
    assert await missing_now(team, db) == 1, "counted no further than one past the few"
    closer.look_again_within = 128
    await team.dm(BOB, "skip")
    assert await missing_now(team, db) == 1
    await team.type(BOB, "standup away")
    await team.type(ALICE, "standup away")
    await team.type(DAVE, "standup away")
    assert await missing_now(team, db) is None, "nobody is expected today"
