"""Retros on a cadence: opened once per date across processes, late within the grace period,
skipped with a log line after it, and never for a date before the cadence was set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from rituals.retro import RetroKind
from rituals.retro.models import RetroRun, RetroSeries
from rituals.retro.schedule import last_due
from storage.db import Database
from tests.helpers import Team, person
from tests.rituals.retro.support import ANA, BEN, MONDAY, boards, retros

FIRST = datetime(2030, 1, 9, 15, 0, tzinfo=UTC)  # the Wednesday after MONDAY
RITUAL = 1


def retro_of(team: Team) -> RetroKind:
    kind = team.bot.kinds["retro"]
    assert isinstance(kind, RetroKind)
    return kind


async def fortnightly(team: Team) -> str:
    return await team.type(ANA, "retro schedule every 2 weeks on wed at 15:00")


async def runs(team: Team) -> list[tuple[date, str]]:
    async with team.runtime.db.session() as session:
        rows = await session.execute(
            select(RetroRun.local_date, RetroRun.outcome).order_by(RetroRun.local_date)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def opened_at(team: Team, when: datetime) -> int:
    team.clock.set(when)
    return await retro_of(team).cadence.start_due(RITUAL)


async def test_scheduling_says_when_and_asks_for_a_rebuild(team: Team) -> None:
    changed: list[int] = []
    team.runtime.schedule_changed = changed.append

    reply = await fortnightly(team)

    assert reply.splitlines()[0] == (
        "Retros every 2 weeks on Wednesday at 15:00 (UTC); the first opens on 2030-01-09."
    )
    assert changed == [RITUAL]
    kind = retro_of(team)
    async with team.runtime.db.session() as session:
        assert await kind.versions(session) == {RITUAL: 2}
    (slot,) = await kind.slots(RITUAL)
    assert (slot.schedule.at, slot.schedule.days, slot.schedule.tz) == (time(15), {3}, "UTC")
    assert slot.args == (RITUAL,)


async def test_the_zone_is_the_persons_unless_given(team: Team) -> None:
    berlin = person("UANA", "Europe/Berlin", "Ana")
    assert "(Europe/Berlin)" in await team.type(berlin, "retro schedule every week on fri at 9:00")
    reply = await team.type(berlin, "retro schedule every week on fri at 9:00 tz Asia/Tokyo")
    assert "(Asia/Tokyo)" in reply
    (slot,) = await retro_of(team).slots(RITUAL)
    assert slot.schedule.tz == "Asia/Tokyo"


async def test_a_scheduled_retro_opens_once_per_date(team: Team, second_process: Team) -> None:
    await fortnightly(team)

    assert await opened_at(team, FIRST) == 1
    assert await opened_at(team, FIRST + timedelta(minutes=1)) == 0
    assert await opened_at(second_process, FIRST + timedelta(minutes=2)) == 0

    (board,) = boards(await team.deliver())
    assert board.text.startswith("Retro: Retro 2030-01-09")
    assert await runs(team) == [(date(2030, 1, 9), "started")]


async def test_every_second_week_skips_the_week_between(team: Team) -> None:
    await fortnightly(team)
    assert await opened_at(team, FIRST) == 1
    await team.type(ANA, "retro close")

    assert await opened_at(team, FIRST + timedelta(weeks=1)) == 0
    assert await opened_at(team, FIRST + timedelta(weeks=2)) == 1
    assert [r.title for r in await retros(team.runtime.db)] == [
        "Retro 2030-01-09",
        "Retro 2030-01-23",
    ]


async def test_catch_up_opens_a_retro_due_within_the_grace_period(team: Team) -> None:
    await fortnightly(team)
    team.clock.set(FIRST + timedelta(minutes=59))
    assert await retro_of(team).catch_up() == 1
    assert await retro_of(team).catch_up() == 0


async def test_past_the_grace_period_a_date_is_skipped_with_a_log_line(team: Team) -> None:
    await fortnightly(team)
    team.clock.set(FIRST + timedelta(hours=1, minutes=1))

    with capture_logs() as logs:
        assert await retro_of(team).catch_up() == 0
        assert await retro_of(team).catch_up() == 0

    skipped = [e for e in logs if e["event"].startswith("scheduled retro skipped")]
    assert len(skipped) == 1 and skipped[0]["day"] == "2030-01-09"
    assert await runs(team) == [(date(2030, 1, 9), "missed")]
    assert await retros(team.runtime.db) == []


async def test_a_date_due_before_the_cadence_was_set_is_never_missed(team: Team) -> None:
    team.clock.set(FIRST + timedelta(minutes=30))
    reply = await fortnightly(team)
    assert "the first opens on 2030-01-16" in reply

    with capture_logs() as logs:
        assert await retro_of(team).catch_up() == 0
    assert logs == [] and await runs(team) == []
    assert await opened_at(team, FIRST + timedelta(weeks=1)) == 1


async def test_an_open_retro_keeps_the_scheduled_one_from_opening(team: Team) -> None:
    await fortnightly(team)
    await team.type(BEN, "retro start Ad hoc")
    assert await opened_at(team, FIRST) == 0
    assert await runs(team) == [(date(2030, 1, 9), "busy")]
    assert [r.title for r in await retros(team.runtime.db)] == ["Ad hoc"]


async def test_a_scheduled_retro_takes_the_last_ones_settings(team: Team) -> None:
    await team.type(ANA, "retro start Kickoff format ssc named hidden votes 5")
    await team.type(BEN, "retro add stop Friday deploys")
    await team.type(ANA, "retro close")
    await fortnightly(team)
    await team.type(BEN, "retro add continue Pairing")

    assert await opened_at(team, FIRST) == 1

    scheduled = (await retros(team.runtime.db))[-1]
    assert (scheduled.format, scheduled.allow_anonymous, scheduled.hidden) == ("ssc", False, True)
    assert scheduled.votes_per_person == 5 and scheduled.facilitator_id is None
    board = boards(await team.deliver())[-1].text
    assert "*Continue*: 1 item" in board


async def test_whoever_scheduled_leads_and_may_close_a_scheduled_retro(team: Team) -> None:
    await fortnightly(team)
    await opened_at(team, FIRST)
    assert "Only Ana or a workspace admin can close" in await team.type(BEN, "retro close")
    assert (await team.type(ANA, "retro close")).startswith("Closed")


async def test_schedule_off_stops_it(team: Team) -> None:
    await fortnightly(team)
    assert "off" in await team.type(ANA, "retro schedule off")
    async with team.runtime.db.session() as session:
        assert await retro_of(team).versions(session) == {}
        assert (await session.execute(select(RetroSeries))).first() is None
    assert await retro_of(team).slots(RITUAL) == []
    assert await opened_at(team, FIRST) == 0
    assert "not scheduled" in await team.type(ANA, "retro schedule off")


def test_last_due_steps_back_to_a_week_on_the_cadence() -> None:
    series = RetroSeries(
        every_weeks=3, weekday=3, at="15:00", anchor=date(2030, 1, 9), since=MONDAY
    )
    assert last_due(series, "UTC", FIRST - timedelta(seconds=1)) is None
    assert last_due(series, "UTC", FIRST) == FIRST
    assert last_due(series, "UTC", FIRST + timedelta(weeks=2, days=1)) == FIRST
    assert last_due(series, "UTC", FIRST + timedelta(weeks=3)) == FIRST + timedelta(weeks=3)


@pytest.fixture
async def second_process(db: Database) -> AsyncIterator[Team]:
    other = Database(db.url)
    yield Team(other, MONDAY)
    await other.dispose()
