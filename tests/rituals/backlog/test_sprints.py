"""Sprints on the console: one open per channel (held by the database), the review its
closing posts, and the closer's choice for the items still open."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from rituals.backlog.models import BacklogItem, BacklogSprint
from rituals.kinds import Handoff
from storage.db import Database
from storage.models import Channel
from tests.helpers import CHANNEL, Team
from tests.rituals.backlog.support import ANA, BEN, CAL, known, press, snapshot


async def sprint_of(db: Database) -> dict[int, str | None]:
    async with db.session() as session:
        rows = await session.execute(
            select(BacklogItem.number, BacklogSprint.name)
            .outerjoin(BacklogSprint, BacklogSprint.id == BacklogItem.sprint_id)
            .order_by(BacklogItem.number)
        )
        return dict(rows.tuples().all())


async def a_sprint_with_work(team: Team) -> None:
    """Sprint 15 holds #1 (done by Ben), #2 (open, Ben's), #3 (dropped) and #4 (doing)."""
    await known(team, ANA, BEN, CAL)
    await team.type(ANA, "backlog add data p1 Dedup clicks @ben")
    await team.type(ANA, "backlog add model Retrain ranker @ben")
    await team.type(ANA, "backlog add docs Write the eval doc")
    await team.type(ANA, "backlog add eval Rerun baseline")
    await team.type(ANA, "backlog add Not in the sprint")
    said = await team.type(ANA, "backlog sprint start Sprint 15 until 2030-01-18 Ship ranker v4")
    assert "Ana started Sprint 15, until 2030-01-18 — goal: Ship ranker v4" in said
    for n in (1, 2, 3, 4):
        await team.type(ANA, f"backlog sprint {n} sprint 15")
    await team.type(BEN, "backlog done 1")
    await team.type(ANA, "backlog drop 3")
    await team.type(ANA, "backlog doing 4")
    await team.deliver()


async def test_closing_posts_a_review_by_state_type_and_owner(team: Team) -> None:
    await a_sprint_with_work(team)
    assert "choose where its 2 open items should go" in await team.type(ANA, "backlog sprint close")
    (review,) = [p for p in await team.deliver() if p.text.startswith("Sprint review")]
    assert review.op == "post" and review.to == "C1"
    assert review.message.text == (
        "Sprint review: Sprint 15 (2030-01-07 → 2030-01-07) — goal: Ship ranker v4 — "
        "1 of 4 items done"
    )
    sections = [s.text for s in review.message.sections]
    assert sections[0] == "*Done* (1)\n• #1 [p1 data] Dedup clicks — @Ben Ode — done"
    assert sections[1].startswith("*Carried over (still open)* (2)\n• #2 [p2 model]")
    assert sections[2].startswith("*Dropped* (1)\n• #3")
    assert sections[3] == (
        "*By type*\n• data: 1 done\n• docs: 1 dropped\n• eval: 1 doing\n• model: 1 open"
    )
    assert sections[4] == "*By owner*\n• @Ben Ode: 1 open, 1 done\n• nobody: 1 doing, 1 dropped"
    assert [b.label for b in review.message.buttons] == [
        "Open items to the next sprint",
        "Open items back to the backlog",
    ]
    assert "No sprint is open" in await team.type(ANA, "backlog sprint close")


async def test_open_items_go_back_to_the_backlog_when_the_closer_says_so(team: Team) -> None:
    await a_sprint_with_work(team)
    await team.type(ANA, "backlog sprint close")
    (review,) = [p for p in await team.deliver() if p.text.startswith("Sprint review")]
    _, back = review.message.buttons
    assert "Only Ana or a workspace admin" in await press(team, CAL, back.action_id, back.value)
    assert "2 open items went back" in await press(team, ANA, back.action_id, back.value)
    assert await sprint_of(team.runtime.db) == {
        1: "Sprint 15",
        2: None,
        3: "Sprint 15",
        4: None,
        5: None,
    }
    (updated,) = [p for p in await team.deliver() if p.op == "update"]
    assert updated.message.buttons == []
    assert "Ana chose: 2 open items went back to the backlog." in updated.text
    assert "placed already" in await press(team, ANA, back.action_id, back.value)


async def test_open_items_move_into_the_next_sprint_when_it_starts(team: Team) -> None:
    await a_sprint_with_work(team)
    await team.type(ANA, "backlog sprint close")
    (review,) = [p for p in await team.deliver() if p.text.startswith("Sprint review")]
    onward, _ = review.message.buttons
    assert "when it starts" in await press(team, ANA, onward.action_id, onward.value)
    said = await team.type(ANA, "backlog sprint start Sprint 16 until 2030-02-01")
    assert "2 items in it, 2 carried over from the last sprint" in said
    assert (await sprint_of(team.runtime.db))[2] == "Sprint 16"
    assert (await sprint_of(team.runtime.db))[1] == "Sprint 15"
    shown = await team.type(ANA, "backlog show 2")
    assert "carried from Sprint 15 to Sprint 16" in shown


async def test_one_open_sprint_per_channel_and_who_may_run_them(team: Team) -> None:
    await known(team, ANA, BEN, CAL)
    await team.type(ANA, "backlog add Kick-off")
    assert "Only Ana or a workspace admin can start" in await team.type(
        CAL, "backlog sprint start S1 until 2030-01-18"
    )
    await team.type(ANA, "backlog coleads @ben")
    await team.type(BEN, "backlog sprint start S1 until 2030-01-18")
    before = await snapshot(team.runtime.db)
    assert "S1 is open until 2030-01-18: one sprint at a time" in await team.type(
        ANA, "backlog sprint start S2 until 2030-01-25"
    )
    assert "has passed" in await team.type(ANA, "backlog sprint start S2 until 2030-01-06")
    assert "Only" in await team.type(CAL, "backlog sprint close")
    assert "missing until" in await team.type(ANA, "backlog sprint start S2")
    assert "real date" in await team.type(ANA, "backlog sprint start S2 until 2030-02-30")
    assert await snapshot(team.runtime.db) == before
    await team.type(BEN, "backlog sprint close")
    assert "S1 ran already" in await team.type(ANA, "backlog sprint start S1 until 2030-02-01")
    assert "S1 is closed already" in await team.type(ANA, "backlog sprint 1 S1")


async def test_the_database_holds_one_open_sprint_per_channel(team: Team) -> None:
    await team.type(ANA, "backlog add Kick-off")
    await team.type(ANA, "backlog sprint start S1 until 2030-01-18")
    async with team.runtime.db.session() as session:
        ritual_id = (await session.execute(select(BacklogSprint.ritual_id))).scalar_one()
    with pytest.raises(IntegrityError):
        async with team.runtime.db.session() as session:
            session.add(BacklogSprint(ritual_id=ritual_id, name="S2", key="s2", goal="",
                                      open_ritual_id=ritual_id))  # fmt: skip


async def test_two_sprints_started_at_once_open_one(team: Team) -> None:
    await known(team, ANA, BEN)
    await team.type(ANA, "backlog add Kick-off")
    await team.type(ANA, "backlog coleads @ben")
    said = await asyncio.gather(
        team.type(ANA, "backlog sprint start S1 until 2030-01-18"),
        team.type(BEN, "backlog sprint start S2 until 2030-01-18"),
    )
    assert sum("started" in s for s in said) == 1
    assert sum("one sprint at a time" in s for s in said) == 1


async def test_the_first_to_file_leads_not_the_first_to_start_a_sprint(team: Team) -> None:
    await known(team, ANA, BEN)
    await team.type(ANA, "backlog add Kick-off")
    said = await team.type(BEN, "backlog sprint start Sprint 1 until 2030-01-18")
    assert "Only Ana or a workspace admin can start this channel's sprints" in said


async def test_a_backlog_a_hand_off_made_is_led_by_the_first_to_start_a_sprint(
    team: Team,
) -> None:
    await known(team, ANA, BEN)
    async with team.runtime.db.session() as session:
        channel = (
            await session.execute(select(Channel).where(Channel.external_id == CHANNEL.channel))
        ).scalar_one()
        handoff = Handoff("task", "From monitoring", source="alerts:1:alert:1")
        await team.bot.kinds["backlog"].take(session, channel, handoff, team.clock.now(), None)
    assert "Ben Ode started Sprint 1" in await team.type(
        BEN, "backlog sprint start Sprint 1 until 2030-01-18"
    )
    assert "Only Ben Ode or a workspace admin" in await team.type(ANA, "backlog lead @ana")
