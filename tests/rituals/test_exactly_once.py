"""Each scheduled stand-up starts once: across processes, restarts, and late starts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from structlog.testing import capture_logs

from bot.kinds import registry
from rituals.clock import FakeClock
from rituals.delivery import Delivery
from rituals.router import Rituals
from rituals.runtime import Runtime
from storage.db import Database
from storage.models import Occurrence, OutboxMessage, Response
from tests.helpers import PLATFORM, RecordingPort, Team, person
from tests.rituals.test_delivery import StallingPort, until_sent

SUNDAY_NIGHT = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
DUE = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # Monday 09:30 in Berlin
LEAD = person("lead", "Europe/Berlin")
BERLIN = [person(f"de{i}", "Europe/Berlin") for i in range(5)]
NEW_YORK = [person(f"us{i}", "America/New_York") for i in range(3)]


async def configured(db: Database) -> Team:
    team = Team(db, SUNDAY_NIGHT)
    await team.type(LEAD, "standup setup at 09:30 days mon-fri tz Europe/Berlin summary 18:00")
    for member in BERLIN + NEW_YORK:
        await team.type(member, "standup join")
    await team.deliver()
    return team


def another_process(db: Database, clock: FakeClock) -> Rituals:
    return Rituals(Runtime(db=db, clock=clock), registry())


async def scalar(db: Database, stmt) -> int:
    async with db.session() as session:
        return (await session.execute(stmt)).scalar_one()


async def prompts_per_member(db: Database) -> dict[str, int]:
    async with db.session() as session:
        rows = await session.execute(
            select(OutboxMessage.user, func.count())
            .where(OutboxMessage.dedup_key.like("prompt:%"))
            .group_by(OutboxMessage.user)
        )
        return dict(rows.tuples().all())


async def test_two_schedulers_on_one_database_start_one_occurrence_and_prompt_once(
    db: Database,
) -> None:
    team = await configured(db)
    team.clock.set(DUE)
    second_db = Database(db.url)
    try:
        processes = [team.bot, another_process(second_db, team.clock)]
        results = await asyncio.gather(
            *(
                p.kinds["standup"].prompt_due(1, "Europe/Berlin")
                for p in processes
                for _ in range(3)
            )
        )
        team.clock.set(DUE + timedelta(hours=6))
        results += await asyncio.gather(*(p.kinds["standup"].catch_up() for p in processes))
    finally:
        await second_db.dispose()

    assert sum(results) == 6 + 3  # the lead and five in Berlin, then three in New York
    assert await scalar(db, select(func.count()).select_from(Occurrence)) == 1
    assert await scalar(db, select(func.count()).select_from(Response)) == 9
    assert set((await prompts_per_member(db)).values()) == {1}
    delivered = await team.deliver()
    assert sorted(p.to for p in delivered if "Hi " in p.text) == sorted(
        m.user for m in [LEAD, *BERLIN, *NEW_YORK]
    )


async def test_a_start_late_within_the_grace_period_still_prompts(db: Database) -> None:
    team = await configured(db)
    team.clock.set(DUE + timedelta(minutes=59))
    assert await another_process(db, team.clock).kinds["standup"].catch_up() == 6
    assert await scalar(db, select(Occurrence.status)) == "open"


async def test_a_start_past_the_grace_period_skips_with_one_log_line(db: Database) -> None:
    team = await configured(db)
    team.clock.set(DUE + timedelta(hours=1, minutes=1))
    with capture_logs() as logs:
        assert await another_process(db, team.clock).kinds["standup"].catch_up() == 0
        assert await another_process(db, team.clock).kinds["standup"].catch_up() == 0
    skipped = [e for e in logs if "grace" in e["event"]]
    assert len(skipped) == 1 and skipped[0]["late_by_s"] == 3660
    assert await scalar(db, select(Occurrence.status)) == "missed"
    assert await prompts_per_member(db) == {}

    team.clock.set(datetime(2026, 11, 24, 8, 30, tzinfo=UTC))
    assert await team.standups.catch_up() == 6


async def test_a_run_due_before_the_stand_up_existed_was_never_missed(db: Database) -> None:
    team = Team(db, DUE + timedelta(hours=8))  # set up in the evening, after 09:30 had passed
    await team.type(LEAD, "standup setup at 09:30 tz Europe/Berlin")
    team.clock.set(DUE + timedelta(hours=10))
    with capture_logs() as logs:
        assert await another_process(db, team.clock).kinds["standup"].catch_up() == 0
    assert not [e for e in logs if "grace" in e["event"]]
    assert await scalar(db, select(func.count()).select_from(Occurrence)) == 0


async def test_a_run_killed_while_prompting_prompts_every_member_once_after_restart(
    db: Database,
) -> None:
    team = await configured(db)
    team.clock.set(DUE)
    await team.standups.prompt_due(1, "Europe/Berlin")
    stalling = StallingPort(limit=2)
    crashed = Delivery(db, {PLATFORM: stalling}, team.clock, concurrency=1)
    doomed = asyncio.create_task(crashed.drain())
    await asyncio.wait_for(stalling.stalled.wait(), timeout=10)
    await asyncio.wait_for(until_sent(db, 2 + 9), timeout=10)  # 9 replies to set-up and join
    doomed.cancel()

    team.clock.set(DUE + crashed.lease + timedelta(seconds=1))
    restarted = another_process(db, team.clock)
    assert await restarted.kinds["standup"].catch_up() == 0  # prompts were stored before sending
    port = RecordingPort()
    await Delivery(db, {PLATFORM: port}, team.clock).drain()
    prompted = [p.to for p in stalling.log if p.op == "direct"] + [
        p.to for p in port.log if p.op == "direct"
    ]
    assert sorted(prompted) == sorted(m.user for m in [LEAD, *BERLIN])
