"""A retro's action item becomes a backlog item in one step, once, and keeps where it came
from; `retro actions` shows what it became. The retro reaches the backlog only as "whoever
takes tasks"."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.kinds import registry
from rituals.backlog.models import BacklogItem
from rituals.hypothesis.models import Hypothesis
from rituals.kinds import Handoff, Registry
from storage.db import Database
from storage.models import Channel
from tests.handlers.alerts.payloads import plain
from tests.helpers import CHANNEL, Team
from tests.rituals.alerts.support import connect, send
from tests.rituals.backlog.support import ANA, BEN, CAL, OTHER_CHANNEL, known, press, say_in
from tests.rituals.hypothesis.support import SENTENCE as HYPOTHESIS


async def closed_retro(team: Team) -> list[tuple[str, str]]:
    """A retro closed with A1 (Ben's) and A2; the summary's buttons."""
    await known(team, ANA, BEN, CAL)
    await team.type(ANA, "retro start Sprint 14")
    await team.type(CAL, "retro add action Pin the CI images @ben by 2030-01-10")
    await team.type(CAL, "retro add action Write the eval doc")
    await team.type(ANA, "retro close")
    (summary,) = [p for p in await team.deliver() if p.text.startswith("Retro summary")]
    return [(b.label, b.value) for b in summary.message.buttons]


async def test_an_action_item_goes_to_the_backlog_once_by_its_button(team: Team) -> None:
    buttons = await closed_retro(team)
    assert buttons == [("A1 to backlog", "1"), ("A2 to backlog", "2")]
    assert "A1: Filed in the backlog as #1." in await press(team, CAL, "retro.task", "1")
    assert "A1: Already in the backlog as #1." in await press(team, ANA, "retro.task", "1")
    async with team.runtime.db.session() as session:
        (item,) = (await session.execute(select(BacklogItem))).scalars()
    assert item.title == "Pin the CI images @ben by 2030-01-10"
    assert item.source == "retro:1:action:1"
    assert item.owner_id is not None and item.type == "feature"
    shown = await team.type(ANA, "backlog show 1")
    assert "From action A1 of the retro “Sprint 14”" in shown
    assert "Cal: filed from action A1 of the retro “Sprint 14”" in shown
    assert "retro:1" not in shown

    listed = await team.bot.command(ANA, CHANNEL, "retro actions")
    assert listed is not None
    assert "to backlog #1 by Cal" in listed.message.plain_text()
    assert [b.label for b in listed.message.buttons] == ["A2 to backlog"]


async def test_another_channels_action_or_a_bad_value_files_nothing(team: Team) -> None:
    await closed_retro(team)
    await say_in(team, OTHER_CHANNEL, ANA, "retro start Other")
    assert "no action item A1 here" in await press(
        team, ANA, "retro.task", "1", place=OTHER_CHANNEL
    )
    for value in ("", "x", "0", "99"):
        said = await press(team, ANA, "retro.task", value)
        assert "out of date" in said or "no action item" in said, value
    async with team.runtime.db.session() as session:
        assert (await session.execute(select(BacklogItem))).scalars().all() == []


async def test_the_same_source_handed_twice_gives_back_the_first_item(db: Database) -> None:
    team = Team(db, datetime(2030, 1, 7, 9, 0, tzinfo=UTC))
    await team.type(ANA, "backlog add Kick-off")
    backlog = team.bot.kinds["backlog"]
    handoff = Handoff("task", "Relabel the noisy slice", "alerts:7", category="data")
    async with db.session() as session:
        channel = (await session.execute(select(Channel))).scalar_one()
        first = await backlog.take(session, channel, handoff, team.clock.now(), None)
        second = await backlog.take(session, channel, handoff, team.clock.now(), None)
    assert first is not None and second is not None
    assert (first.ref, second.ref) == ("#2", "#2")
    assert "data" in await team.type(ANA, "backlog list data")


async def test_without_a_kind_that_takes_tasks_the_retro_shows_no_button(db: Database) -> None:
    kinds = Registry(k for w, k in registry().kinds.items() if w != "backlog")
    team = Team(db, datetime(2030, 1, 7, 9, 0, tzinfo=UTC), kinds)
    assert await closed_retro(team) == []
    assert "Nothing here takes tasks" in await press(team, ANA, "retro.task", "1")


async def test_an_acknowledged_alerts_item_says_which_alert_it_came_from(team: Team) -> None:
    token = await connect(team, ANA)
    await send(team, token, plain(value=0.6, threshold=0.7, severity="critical"))
    await known(team, BEN)
    await team.type(BEN, "alerts ack 1")
    assert "Filed in the backlog as #1" in await press(team, BEN, "alerts.task", "1")
    shown = await team.type(ANA, "backlog show 1")
    assert "From alert #1: churn auc" in shown and "filed from alert #1: churn auc" in shown
    assert "alerts:1" not in shown


async def test_a_hypothesis_next_step_says_which_hypothesis_it_came_from(team: Team) -> None:
    await team.type(ANA, HYPOTHESIS)
    await team.type(ANA, "hypothesis close 1 validated dedup pays off")
    async with team.runtime.db.session() as session:
        (row,) = (await session.execute(select(Hypothesis.id))).scalars()
    assert "Filed in the backlog as #1" in await press(team, ANA, "hypothesis.next", str(row))
    shown = await team.type(ANA, "backlog show 1")
    assert "From hypothesis #1: we believe dedup will result in cleaner labels" in shown, shown
    assert "hypothesis:" not in shown


async def test_a_source_no_kind_knows_is_shown_as_it_is(db: Database) -> None:
    team = Team(db, datetime(2030, 1, 7, 9, 0, tzinfo=UTC))
    await team.type(ANA, "backlog add Kick-off")
    backlog = team.bot.kinds["backlog"]
    handoff = Handoff("task", "Relabel", "elsewhere:7", label="ticket 7")
    async with db.session() as session:
        channel = (await session.execute(select(Channel))).scalar_one()
        await backlog.take(session, channel, handoff, team.clock.now(), None)
    shown = await team.type(ANA, "backlog show 2")
    assert "From elsewhere:7" in shown and "someone: filed from ticket 7" in shown
