"""The scheduler's jobs come from the database: one per ritual and participant timezone."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import pytest
from structlog.testing import capture_logs

from bot import scheduler as scheduler_module
from bot.scheduler import RitualScheduler, RitualTrigger
from rituals.schedule import Schedule
from storage.db import Database
from tests.helpers import Team, person

ALICE = person("alice", "Europe/Berlin")
BOB = person("bob", "America/New_York")


def weekday_trigger(tz: str, at: time = time(9, 30), **kw: object) -> RitualTrigger:
    return RitualTrigger(Schedule(at=at, days=frozenset({1, 2, 3, 4, 5}), tz=tz, **kw))  # type: ignore[arg-type]


def test_the_trigger_fires_on_weekdays_at_the_local_time_across_dst() -> None:
    trigger = weekday_trigger("America/New_York", time(2, 30))
    fired, previous = [], None
    now = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)  # Friday before the spring-forward Sunday
    for _ in range(3):
        previous = trigger.get_next_fire_time(previous, now)
        fired.append(previous)
    assert fired == [
        datetime(2026, 3, 9, 6, 30, tzinfo=UTC),  # Monday 02:30 EDT; the weekend is skipped
        datetime(2026, 3, 10, 6, 30, tzinfo=UTC),
        datetime(2026, 3, 11, 6, 30, tzinfo=UTC),
    ]


def test_the_trigger_skips_holidays_and_skip_dates() -> None:
    trigger = weekday_trigger(
        "America/New_York", country="US", skip_dates=frozenset({date(2026, 11, 27)})
    )
    after = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # Wednesday, after 09:30 in New York
    assert trigger.get_next_fire_time(None, after) == datetime(2026, 11, 30, 14, 30, tzinfo=UTC)


async def test_jobs_are_rebuilt_from_the_database_on_change(sqlite_db: Database) -> None:
    team = Team(sqlite_db, datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    scheduler = RitualScheduler(team.bot)
    team.runtime.schedule_changed = scheduler.changed
    await scheduler.start()
    await team.type(ALICE, "standup setup at 09:30 tz Europe/Berlin")
    await scheduler.settled()
    try:
        jobs = set(scheduler.jobs())
        assert {j for j in jobs if j.startswith("standup:")} == {"standup:1:Europe/Berlin"}
        assert {"standup.sweep", "resync"} <= jobs

        await team.type(BOB, "standup join")
        await scheduler.settled()
        assert "standup:1:America/New_York" in scheduler.jobs()

        await team.type(ALICE, "standup pause")
        await scheduler.settled()
        assert not [j for j in scheduler.jobs() if j.startswith("standup:")]
    finally:
        await scheduler.shutdown()


async def test_a_second_process_picks_up_changes_on_resync(sqlite_db: Database) -> None:
    team = Team(sqlite_db, datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    elsewhere = RitualScheduler(team.bot)
    await elsewhere.start()
    try:
        assert not [j for j in elsewhere.jobs() if j.startswith("standup:")]
        await team.type(ALICE, "standup setup at 09:30 tz Europe/Berlin")
        await team.type(BOB, "standup join")
        await elsewhere.resync()
        assert {j for j in elsewhere.jobs() if j.startswith("standup:")} == {
            "standup:1:Europe/Berlin",
            "standup:1:America/New_York",
        }
    finally:
        await elsewhere.shutdown()


def test_a_job_rebuilt_just_after_its_run_time_still_runs_it() -> None:
    trigger = RitualTrigger(
        Schedule(at=time(9, 30), days=frozenset(range(1, 8)), tz="UTC"), timedelta(hours=1)
    )
    just_after = datetime(2026, 11, 23, 9, 30, 5, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, just_after) == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, just_after + timedelta(hours=2)) == datetime(
        2026, 11, 24, 9, 30, tzinfo=UTC
    )


async def test_a_burst_of_changes_ends_with_the_jobs_of_the_last_state(
    sqlite_db: Database,
) -> None:
    team = Team(sqlite_db, datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    scheduler = RitualScheduler(team.bot)
    team.runtime.schedule_changed = scheduler.changed
    await scheduler.start()
    await team.type(ALICE, "standup setup at 09:30 tz Europe/Berlin")
    try:
        for _ in range(3):
            await team.type(BOB, "standup join")
            await team.type(BOB, "standup leave")
        await team.type(BOB, "standup join")
        await scheduler.settled()
        await scheduler.settled()
        assert {j for j in scheduler.jobs() if j.startswith("standup:")} == {
            "standup:1:Europe/Berlin",
            "standup:1:America/New_York",
        }
    finally:
        await scheduler.shutdown()


async def test_a_run_still_going_at_shutdown_is_stopped_and_said_once(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job that outlasts the shutdown's wait is stopped by the shutdown itself, with one
    warning, not cut off as the process ends and logged as a failed job with a traceback."""
    monkeypatch.setattr(scheduler_module, "SHUTDOWN_WAIT_SECONDS", 0.01)
    team = Team(sqlite_db, datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    scheduler = RitualScheduler(team.bot)
    await scheduler.start()
    started, never = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        started.set()
        await never.wait()

    run = asyncio.create_task(scheduler._tracked(slow)())
    await started.wait()
    with capture_logs() as logs:
        await scheduler.shutdown()
    assert run.done() and not run.cancelled() and run.result() is None
    assert [e["event"] for e in logs if e["log_level"] in ("warning", "error")] == [
        "scheduled work still running at shutdown was stopped"
    ]
