"""Dot voting: a budget per person that holds under concurrency, and clear refusals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from rituals.identity import Actor, Place
from rituals.retro.models import RetroVote, RetroVoter
from storage.db import Database
from tests.helpers import Team
from tests.rituals.retro.support import (
    ANA,
    BEN,
    CAL,
    MONDAY,
    OTHER_CHANNEL,
    known,
    latest_board,
    press,
    say_in,
    snapshot,
)


async def board_with_items(team: Team, count: int, *, start: str = "retro start Sprint 14") -> None:
    await known(team, ANA, BEN, CAL)
    await team.type(ANA, start)
    for n in range(1, count + 1):
        await team.type(BEN, f"retro add well Item {n}")


async def votes_cast(db: Database) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(RetroVote)) or 0


async def test_a_vote_by_button_or_command_moves_the_item_up_the_board(team: Team) -> None:
    await board_with_items(team, 3)

    assert await press(team, CAL, "retro.vote", "3") == "Voted for #3.\n2 votes left of 3."
    assert await team.type(ANA, "retro vote #3") == "Voted for #3.\n2 votes left of 3."
    assert await team.type(ANA, "retro vote 2") == "Voted for #2.\n1 vote left of 3."

    board = await latest_board(team)
    assert board.index("#3 Item 3 — 2 votes") < board.index("#2 Item 2 — 1 vote")
    assert board.index("#2 Item 2 — 1 vote") < board.index("#1 Item 1 — 0 votes")


async def test_the_budget_is_three_votes_by_default(team: Team) -> None:
    await board_with_items(team, 4)
    for n in (1, 2, 3):
        await team.type(CAL, f"retro vote {n}")
    before = await snapshot(team.runtime.db)

    reply = await team.type(CAL, "retro vote 4")

    assert reply.startswith("You have used all 3 votes on this retro.")
    assert await snapshot(team.runtime.db) == before


async def test_a_board_can_set_its_own_budget(team: Team) -> None:
    await board_with_items(team, 2, start="retro start Sprint 14 votes 1")
    assert await team.type(CAL, "retro vote 1") == "Voted for #1.\n0 votes left of 1."
    assert "used all 1 vote" in await team.type(CAL, "retro vote 2")


async def test_one_vote_per_item_and_person(team: Team) -> None:
    await board_with_items(team, 1)
    await team.type(CAL, "retro vote 1")
    before = await snapshot(team.runtime.db)

    assert (
        await press(team, CAL, "retro.vote", "1") == "You already voted for #1.\n2 votes left of 3."
    )
    assert await snapshot(team.runtime.db) == before


@pytest.fixture
async def second_process(db: Database) -> AsyncIterator[Team]:
    """Another `ritualbot run` on the same database: its own engine, pool and router."""
    other = Database(db.url)
    yield Team(other, MONDAY)
    await other.dispose()


async def test_the_budget_holds_under_concurrent_votes_from_two_processes(
    team: Team, second_process: Team
) -> None:
    await board_with_items(team, 8)

    routers = [team, second_process]
    replies = await asyncio.gather(
        *(routers[n % 2].type(CAL, f"retro vote {n}") for n in range(1, 9)),
        *(routers[n % 2].type(CAL, f"retro vote {n}") for n in range(1, 9)),
    )

    assert sum(r.startswith("Voted for") for r in replies) == 3
    assert await votes_cast(team.runtime.db) == 3
    async with team.runtime.db.session() as session:
        assert (await session.execute(select(RetroVoter.used))).scalars().all() == [3]


async def test_concurrent_votes_of_many_people_are_all_counted(
    team: Team, second_process: Team
) -> None:
    await board_with_items(team, 1)
    people = [Actor("test", "W1", f"U{n}", f"P{n}") for n in range(12)]

    routers = [team, second_process]
    await asyncio.gather(*(routers[n % 2].type(p, "retro vote 1") for n, p in enumerate(people)))

    assert await votes_cast(team.runtime.db) == 12
    assert "#1 Item 1 — 12 votes" in await latest_board(team)


async def test_votes_on_a_closed_retro_change_nothing(team: Team) -> None:
    await board_with_items(team, 1)
    await team.type(ANA, "retro close")
    before = await snapshot(team.runtime.db)

    reply = await press(team, CAL, "retro.vote", "1")

    assert reply == "Sorry — Sprint 14 is closed; votes are no longer counted."
    assert await snapshot(team.runtime.db) == before


async def test_unknown_and_foreign_items_are_not_found(team: Team) -> None:
    await board_with_items(team, 1)
    await say_in(team, OTHER_CHANNEL, ANA, "retro start Data")
    await say_in(team, OTHER_CHANNEL, BEN, "retro add well Their item")
    other_workspace = Actor("test", "W2", "UZED", "Zed")
    here_too = Place("C1", "ml-team")
    await team.bot.command(other_workspace, here_too, "retro start Theirs")
    await team.bot.command(other_workspace, here_too, "retro add well Far away")
    before = await snapshot(team.runtime.db)

    for item in ("2", "3", "999"):
        reply = await team.type(CAL, f"retro vote {item}")
        assert reply.startswith(f"Sorry — there is no item #{item} on this channel's retros.")
        assert (await press(team, CAL, "retro.vote", item)).startswith("Sorry — there is no item")
    reply = await team.bot.command(other_workspace, here_too, "retro vote 1")
    assert reply is not None and "no item #1" in reply.message.text

    assert await snapshot(team.runtime.db) == before


async def test_a_stale_or_forged_button_is_refused(team: Team) -> None:
    await board_with_items(team, 1)
    before = await snapshot(team.runtime.db)
    for value in ("", "abc", "0", "-1", "99999999999", "１"):
        assert (await press(team, CAL, "retro.vote", value)).startswith(
            "That button is out of date."
        )
    assert await snapshot(team.runtime.db) == before


async def test_an_item_waiting_for_the_next_retro_takes_no_votes(team: Team) -> None:
    await team.type(BEN, "retro add well Early bird")
    assert (
        await team.type(CAL, "retro vote 1") == "#1 waits for the next retro; vote once it opens."
    )
