"""An action item handed on as a task to whichever kind takes tasks: the retro names that
kind by its own title and keeps its reference as it is, whatever the taker's words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kinds import registry
from rituals.commands import Command, Verb, Verbs
from rituals.commands import tokens as t
from rituals.kinds import Handoff, Kind, Registry, Taken
from rituals.retro import handoff
from storage.db import Database
from storage.models import Channel, Member
from tests.helpers import CHANNEL, Team, person
from tests.rituals.retro.support import known, press

ANA = person("UANA", name="Ana")
CAL = person("UCAL", name="Cal")


@dataclass(frozen=True)
class TrackerShow(Command):
    pass


class TrackerKind(Kind):
    """An issue tracker that takes tasks and words its answers its own way."""

    word = "tracker"
    title = "tracker"
    verbs: ClassVar[Verbs] = {"show": Verb(t.fixed(TrackerShow), "tracker show")}
    help = "tracker show"
    takes = frozenset({"task"})

    async def take(
        self,
        session: AsyncSession,
        channel: Channel,
        handoff: Handoff,
        now: datetime,
        by: Member | None,
    ) -> Taken | None:
        return Taken(f"Logged {handoff.label} as issue ML-7.", ref="ML-7")


@pytest.fixture
def team(db: Database) -> Team:
    kinds = Registry([registry().kinds["retro"], TrackerKind])
    return Team(db, datetime(2030, 1, 7, 9, 0, tzinfo=UTC), kinds)


async def test_the_retro_names_the_taker_by_its_title_and_keeps_its_ref(team: Team) -> None:
    await known(team, ANA, CAL)
    await team.type(ANA, "retro start Sprint 14")
    await team.type(CAL, "retro add action Pin the CI images")
    await team.type(CAL, "retro add action Write the eval doc")
    await team.type(ANA, "retro close")
    (summary,) = [p for p in await team.deliver() if p.text.startswith("Retro summary")]
    assert [b.label for b in summary.message.buttons] == ["A1 to tracker", "A2 to tracker"]

    assert await press(team, CAL, "retro.task", "1") == "A1: Logged A1 as issue ML-7."
    assert await press(team, ANA, "retro.task", "1") == "A1: Logged A1 as issue ML-7."
    listed = await team.bot.command(ANA, CHANNEL, "retro actions")
    assert listed is not None
    steps = listed.message.plain_text().splitlines()[2]
    assert steps.count("to tracker ML-7 by Cal 2030-01-07") == 1, steps
    assert "backlog" not in listed.message.plain_text()
    assert [b.label for b in listed.message.buttons] == ["A2 to tracker"]


def test_a_long_reference_keeps_the_reference_over_the_title() -> None:
    assert handoff.note_of("backlog", Taken("", ref="#1234")) == "to backlog #1234"
    assert handoff.note_of("backlog", Taken("", ref="#123456")) == "to #123456"
    assert handoff.note_of("backlog", Taken("")) == "to backlog"
    assert len(handoff.note_of("tracker", Taken("", ref="X" * 40))) == handoff.MAX_NOTE
