"""Action items after the retro: carried into the next, listed with their history, marked
done, and their owners reminded once in a private conversation that can share the stage with
a stand-up's questions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from rituals.identity import Place
from rituals.retro import RetroKind
from rituals.retro.models import RetroAction
from storage.db import Database
from storage.models import Answer
from tests.helpers import CHANNEL, Team
from tests.rituals.retro.support import (
    ANA,
    BEN,
    CAL,
    MONDAY,
    OTHER_CHANNEL,
    boards,
    known,
    press,
    say_in,
    snapshot,
)

EVE_OF_DUE = datetime(2030, 1, 9, 9, 0, tzinfo=UTC)  # the morning before 2030-01-10


def retro_of(team: Team) -> RetroKind:
    kind = team.bot.kinds["retro"]
    assert isinstance(kind, RetroKind)
    return kind


async def statuses(team: Team) -> list[str]:
    async with team.runtime.db.session() as session:
        rows = await session.execute(select(RetroAction.status).order_by(RetroAction.id))
        return list(rows.scalars())


async def closed_with_actions(team: Team) -> None:
    """Sprint 14 closed with A1 for Ben, due 2030-01-10, and A2 for nobody."""
    await known(team, ANA, BEN, CAL)
    await team.type(ANA, "retro start Sprint 14")
    await team.type(CAL, "retro add action Pin the CI images @ben by 2030-01-10")
    await team.type(CAL, "retro add action Write the eval doc")
    await team.type(ANA, "retro close")
    await team.deliver()


async def test_open_action_items_head_the_next_retro(team: Team) -> None:
    await closed_with_actions(team)

    await team.type(ANA, "retro start Sprint 15")

    (board,) = boards(await team.deliver())
    carried = board.message.sections[0].text.splitlines()
    assert carried == [
        "*From earlier retros — done? still open?*",
        "• A1 Pin the CI images @ben by 2030-01-10 — @Ben Ode — due 2030-01-10",
        "• A2 Write the eval doc",
    ]
    assert [(b.action_id, b.value) for b in board.message.buttons[1:]] == [
        ("retro.done", "1"),
        ("retro.done", "2"),
    ]


async def test_done_by_button_updates_the_open_board(team: Team) -> None:
    await closed_with_actions(team)
    await team.type(ANA, "retro start Sprint 15")
    await team.deliver()

    assert await press(team, CAL, "retro.done", "2") == "A2 is done — nice work."

    board = boards(await team.deliver())[-1]
    assert board.op == "update" and "A2" not in board.text and "A1 Pin" in board.text
    assert await statuses(team) == ["open", "done"]
    assert await press(team, CAL, "retro.done", "2") == "A2 was already done."


async def test_actions_are_listed_with_their_history(team: Team) -> None:
    await closed_with_actions(team)
    await team.type(ANA, "retro start Sprint 15")
    await team.type(ANA, "retro close")
    await team.type(BEN, "retro done A2")

    listing = await team.type(CAL, "retro actions")

    assert listing.splitlines() == [
        "Open action items of this channel's retros (1):",
        "• A1 Pin the CI images @ben by 2030-01-10 — @Ben Ode — due 2030-01-10",
        "   raised at Sprint 14 2030-01-07 · still open at Sprint 15 2030-01-07",
        "[A1 to backlog]",
        "`retro done A3` when one is done.",
    ]


async def test_in_private_actions_lists_the_persons_own(team: Team) -> None:
    await closed_with_actions(team)
    listing = await team.dm(BEN, "retro actions")
    assert listing.startswith("Your open action items (1):\n• A1 Pin the CI images")
    assert (await team.dm(CAL, "retro actions")).startswith("No open action items.")


async def test_another_channels_action_is_not_found(team: Team) -> None:
    await closed_with_actions(team)
    await say_in(team, OTHER_CHANNEL, ANA, "retro start")
    before = await snapshot(team.runtime.db)

    reply = await say_in(team, OTHER_CHANNEL, ANA, "retro done A1")

    assert reply.startswith("Sorry — there is no action item A1 here.")
    assert (await team.dm(CAL, "retro done A1")).startswith("Sorry — there is no action item")
    assert await snapshot(team.runtime.db) == before


async def test_a_persons_home_lists_their_open_action_items(team: Team) -> None:
    await closed_with_actions(team)
    ben = [s.text for s in (await team.bot.home(BEN)).sections]
    assert (
        "*Your retro action items*\n"
        "• A1 Pin the CI images @ben by 2030-01-10 — @Ben Ode — due 2030-01-10"
    ) in ben
    cal = [s.text for s in (await team.bot.home(CAL)).sections]
    assert not any("retro" in text for text in cal)


# --- the reminder ------------------------------------------------------------------------


async def test_the_owner_is_reminded_once_the_morning_before_the_due_date(team: Team) -> None:
    await closed_with_actions(team)

    await team.at(EVE_OF_DUE - timedelta(minutes=1))
    assert await team.deliver() == []
    await team.at(EVE_OF_DUE)
    (reminder,) = await team.deliver()
    await team.at(EVE_OF_DUE + timedelta(hours=3))

    assert await team.deliver() == []
    assert (reminder.op, reminder.to) == ("direct", BEN.user)
    assert reminder.message.text == (
        "Reminder from the #ml-team retro: A1 is due 2030-01-10. Is it done?"
    )
    assert [b.action_id for b in reminder.message.buttons] == ["retro.done", "retro.open"]


async def test_the_reminder_follows_the_owners_own_morning(db: Database) -> None:
    team = Team(db, MONDAY)
    tokyo = BEN.__class__(BEN.platform, BEN.workspace, BEN.user, BEN.name, "Asia/Tokyo")
    await closed_with_actions(team)
    await known(team, tokyo)
    await team.deliver()
    await team.at(datetime(2030, 1, 8, 23, 59, tzinfo=UTC))
    assert await team.deliver() == []
    await team.at(datetime(2030, 1, 9, 0, 0, tzinfo=UTC))  # 09:00 in Tokyo
    assert [p.to for p in await team.deliver()] == [BEN.user]


async def test_an_action_overdue_when_raised_gets_no_reminder(team: Team) -> None:
    await known(team, ANA, BEN)
    await team.type(ANA, "retro start")
    await team.type(ANA, "retro add action Backfill labels @ben by 2030-01-01")
    await team.type(ANA, "retro close")
    await team.deliver()
    await team.advance(timedelta(days=1))
    assert await team.deliver() == []


@pytest.fixture
async def second_process(db: Database) -> AsyncIterator[Team]:
    other = Database(db.url)
    yield Team(other, MONDAY)
    await other.dispose()


async def test_two_processes_sweeping_at_once_remind_once(team: Team, second_process: Team) -> None:
    await closed_with_actions(team)
    team.clock.set(EVE_OF_DUE)
    second_process.clock.set(EVE_OF_DUE)

    sent = await asyncio.gather(
        retro_of(team).reminders.sweep(), retro_of(second_process).reminders.sweep()
    )

    assert sorted(sent) == [0, 1]
    assert len(await team.deliver()) == 1


async def test_the_owner_answers_done_in_private(team: Team) -> None:
    await closed_with_actions(team)
    await team.at(EVE_OF_DUE)

    hint = await team.dm(BEN, "I think so?")
    assert hint.startswith("Sorry — is A1 done? Reply `done` or `still open`.")
    assert await team.dm(BEN, "Done.") == "A1 is done — nice work."
    assert await statuses(team) == ["done", "open"]
    assert (await team.dm(BEN, "done")).startswith("Nothing is waiting for your answer")


async def test_the_owner_answers_still_open(team: Team) -> None:
    await closed_with_actions(team)
    await team.at(EVE_OF_DUE)

    reply = await team.dm(BEN, "still open")

    assert reply == "Noted: A1 stays open; it heads the next retro."
    assert await statuses(team) == ["open", "open"]
    assert (await team.dm(BEN, "done")).startswith("Nothing is waiting for your answer")
    listing = await team.type(ANA, "retro actions")
    assert "reminded 2030-01-09 · still open by Ben Ode 2030-01-09" in listing


async def test_the_reminders_button_answers_it_too(team: Team) -> None:
    await closed_with_actions(team)
    await team.at(EVE_OF_DUE)
    assert await press(team, BEN, "retro.open", "1", place=None) == (
        "Noted: A1 stays open; it heads the next retro."
    )
    assert (await team.dm(BEN, "done")).startswith("Nothing is waiting for your answer")
    assert (await press(team, CAL, "retro.done", "1", place=None)).startswith(
        "Sorry — there is no action item A1 here."
    )


# --- sharing the private chat with a stand-up -------------------------------------------


async def standup_answers(team: Team) -> list[str]:
    async with team.runtime.db.session() as session:
        return list((await session.execute(select(Answer.text).order_by(Answer.id))).scalars())


async def ben_in_a_standup(team: Team) -> None:
    await team.type(ANA, "standup setup at 09:30 summary 17:00")
    await team.type(ANA, "standup questions Done? | Next? | Blockers?")
    await team.type(BEN, "standup join")


async def test_a_reminder_asked_after_a_standup_question_takes_the_next_answer(team: Team) -> None:
    await closed_with_actions(team)
    await ben_in_a_standup(team)
    team.clock.set(EVE_OF_DUE - timedelta(minutes=10))
    await team.type(ANA, "standup now")
    await team.at(EVE_OF_DUE)

    reply = await team.dm(BEN, "done")

    assert reply.startswith("A1 is done — nice work.")
    assert "Done?" in reply, "the stand-up asks its question again"
    for text in ("Trained the ranker", "Evals", "none"):
        await team.dm(BEN, text)
    assert await standup_answers(team) == ["Trained the ranker", "Evals", "none"]
    assert await statuses(team) == ["done", "open"]


async def test_a_standup_question_asked_after_a_reminder_takes_the_next_answer(team: Team) -> None:
    await closed_with_actions(team)
    await ben_in_a_standup(team)
    await team.at(EVE_OF_DUE)
    team.clock.set(EVE_OF_DUE + timedelta(minutes=10))
    await team.type(ANA, "standup now")

    for text in ("Trained the ranker", "Evals"):
        await team.dm(BEN, text)
    last = await team.dm(BEN, "none")
    assert "Is it done?" in last, "the retro asks its question again"
    assert await team.dm(BEN, "still open") == "Noted: A1 stays open; it heads the next retro."

    assert await standup_answers(team) == ["Trained the ranker", "Evals", "none"]
    assert await statuses(team) == ["open", "open"]


async def test_a_command_typed_while_a_reminder_waits_runs_as_a_command(team: Team) -> None:
    await closed_with_actions(team)
    await team.at(EVE_OF_DUE)

    listed = await team.dm(BEN, "retro actions")
    assert listed.startswith("Your open action items")
    started = await team.bot.line(BEN, CHANNEL, "retro start Sprint 15")
    assert started is not None and "Retro open" in started.message.plain_text()
    assert await team.dm(BEN, "still open") == "Noted: A1 stays open; it heads the next retro."


async def test_two_reminders_at_once_are_answered_by_naming_each(team: Team) -> None:
    await known(team, ANA, BEN)
    await team.type(ANA, "retro start Sprint 14")
    await team.type(ANA, "retro add action Pin the CI images @ben by 2030-01-10")
    await team.type(ANA, "retro add action Write the eval doc @ben by 2030-01-10")
    await team.type(ANA, "retro close")
    await team.at(EVE_OF_DUE)

    which = await team.dm(BEN, "done")
    assert "`done A1` or `done A2`" in which
    assert await statuses(team) == ["open", "open"]
    reply = await team.dm(BEN, "done A2")
    assert reply.startswith("A2 is done — nice work.") and "is A1 done?" in reply
    assert await team.dm(BEN, "done") == "A1 is done — nice work."
    assert await statuses(team) == ["done", "done"]


async def test_the_reminders_done_button_works_from_the_owners_own_chat(team: Team) -> None:
    await closed_with_actions(team)
    await team.at(EVE_OF_DUE)
    own_chat = Place("DBEN", "directmessage")  # where Slack says a DM button was pressed

    assert await press(team, BEN, "retro.done", "1", own_chat) == "A1 is done — nice work."
    assert await statuses(team) == ["done", "open"]
    assert await press(team, CAL, "retro.done", "1", own_chat) == (
        "Sorry — there is no action item A1 here.\n"
        "`retro actions` lists the open ones with their ids."
    )
