"""Closing a board: who may, the summary it posts, and the action items it raises."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from rituals.retro.actions import Parsed, parse
from rituals.retro.models import RetroAction
from tests.helpers import Team
from tests.rituals.retro.support import ANA, BEN, CAL, boards, known, snapshot


async def actions_of(team: Team) -> list[RetroAction]:
    async with team.runtime.db.session() as session:
        return list((await session.execute(select(RetroAction).order_by(RetroAction.id))).scalars())


async def sprint_14(team: Team) -> None:
    """A board with an item per category, two votes on one, and two action items."""
    await known(team, ANA, BEN, CAL)
    await team.type(ANA, "retro start Sprint 14")
    await team.type(BEN, "retro add well Shipped the ranker")
    await team.type(BEN, "retro add improve Flaky CI")
    await team.type(CAL, "retro add action Pin the CI images @ben by 2030-01-20")
    await team.type(CAL, "retro add action Write the eval doc anon")
    await team.type(ANA, "retro vote 2")
    await team.type(CAL, "retro vote 2")
    await team.type(CAL, "retro vote 1")


async def test_close_posts_the_summary_with_votes_top_items_and_action_items(team: Team) -> None:
    await sprint_14(team)
    await team.deliver()

    reply = await team.type(ANA, "retro close")

    assert reply == "Closed — the summary is in the channel, with 2 action items."
    sent = await team.deliver()
    (summary,) = [p for p in sent if p.message.text.startswith("Retro summary")]
    assert summary.op == "post" and summary.thread is None
    assert summary.message.text == "Retro summary: Sprint 14 — 4 items, 3 votes"
    top, well, improve, action_items, actions = (s.text for s in summary.message.sections)
    assert top.splitlines() == [
        "*Top items*",
        "1. #2 Flaky CI (To improve) — 2 votes",
        "2. #1 Shipped the ranker (Went well) — 1 vote",
    ]
    assert well.splitlines() == ["*Went well*", "• #1 Shipped the ranker — 1 vote"]
    assert improve.splitlines() == ["*To improve*", "• #2 Flaky CI — 2 votes"]
    assert action_items.splitlines()[0] == "*Action items*"
    assert actions.splitlines() == [
        "*We leave with*",
        "• A1 Pin the CI images @ben by 2030-01-20 — @Ben Ode — due 2030-01-20",
        "• A2 Write the eval doc",
    ]


async def test_the_closed_board_loses_its_buttons(team: Team) -> None:
    await sprint_14(team)
    await team.type(ANA, "retro close")
    board = boards(await team.deliver())[-1]
    assert board.op == "update"
    assert board.message.text == "Retro: Sprint 14 (closed)"
    assert board.message.buttons == []


async def test_action_items_keep_their_owner_and_due_date(team: Team) -> None:
    await sprint_14(team)
    await team.type(ANA, "retro close")

    pinned, doc = await actions_of(team)
    assert (pinned.owner, pinned.due, pinned.status) == ("ben", date(2030, 1, 20), "open")
    assert pinned.owner_id is not None
    assert (doc.owner, doc.owner_id, doc.due) == ("", None, None)


async def test_only_the_facilitator_closes(team: Team) -> None:
    await sprint_14(team)
    before = await snapshot(team.runtime.db)

    reply = await team.type(BEN, "retro close")

    assert reply == "Only Ana or a workspace admin can close this retro."
    assert await snapshot(team.runtime.db) == before


async def test_the_channels_lead_may_close_too(team: Team) -> None:
    await known(team, ANA, BEN)
    await team.type(BEN, "retro schedule every 2 weeks on fri at 15:00")
    await team.type(ANA, "retro start")
    assert "Closed" in await team.type(BEN, "retro close")


async def test_a_second_close_finds_nothing_open(team: Team) -> None:
    await sprint_14(team)
    await team.type(ANA, "retro close")
    before = await snapshot(team.runtime.db)
    assert (await team.type(ANA, "retro close")).startswith("No retro is open in this channel.")
    assert await snapshot(team.runtime.db) == before


async def test_a_postmortems_changes_are_its_action_items(team: Team) -> None:
    await team.type(ANA, "retro start Outage format postmortem")
    await team.type(BEN, "retro add cause Cache stampede")
    await team.type(BEN, "retro add change Add request coalescing @ana")
    await team.type(ANA, "retro close")
    (action,) = await actions_of(team)
    assert action.text == "Add request coalescing @ana" and action.owner == "ana"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pin images @ben by 2030-01-20", Parsed("ben", date(2030, 1, 20))),
        ("<@UBEN> to pin images", Parsed("UBEN", None)),
        ("<@UBEN|ben> to pin images", Parsed("UBEN", None)),
        ("Mail ana@example.com by 2030-02-30, by 2030-03-01", Parsed("", date(2030, 3, 1))),
        ("@ana and @ben, by 2030-01-20.", Parsed("ana", date(2030, 1, 20))),
        ("standby 2030-01-20 @ana.", Parsed("ana", None)),
        ("nobody, no date", Parsed("", None)),
    ],
)
def test_owner_and_due_date_are_read_from_the_text(text: str, expected: Parsed) -> None:
    assert parse(text) == expected


async def test_the_retro_lead_names_co_leads_who_may_then_close_it(team: Team) -> None:
    await known(team, ANA, BEN, CAL)
    await team.type(ANA, "retro start Sprint 14")
    assert "Only Ana or a workspace admin can change who leads" in await team.type(
        BEN, "retro coleads @cal"
    )
    assert "The retro is led by Ana, Cal." in await team.type(ANA, "retro coleads @cal")
    assert "Closed" in await team.type(CAL, "retro close")
    assert "Ben Ode now leads the retro." in await team.type(ANA, "retro lead @ben")
    await team.type(ANA, "retro start Sprint 15")
    assert "Only" in await team.type(ANA, "retro coleads none")  # Ana no longer leads
    assert "Closed" in await team.type(BEN, "retro close")
