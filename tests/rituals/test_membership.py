"""A stand-up follows its channel's roster, however large the channel."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event, func, select

from rituals.roster import CachedRoster, Person
from storage.db import Database
from storage.models import Member, Participant
from tests.helpers import PLATFORM, Team, person

MONDAY_0800 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class ChannelRoster:
    """A platform roster for the test: the channel's people, as the platform would list them."""

    platform = PLATFORM

    def __init__(self, people: list[Person]) -> None:
        self.people = people

    async def members(self, workspace: str, channel: str) -> list[Person] | None:
        return list(self.people)


async def test_a_large_channel_is_synced_in_a_few_statements(db: Database) -> None:
    team = Team(db, MONDAY_0800)
    lead = person("ULEAD")
    await team.type(lead, "standup setup at 09:30")
    people = [Person(f"U{n:05d}", f"Person {n}", "Europe/Berlin") for n in range(1_200)]
    team.runtime.rosters[PLATFORM] = ChannelRoster(people)
    statements: list[str] = []

    def count(_conn, _cursor, sql, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(sql)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        assert await team.standups.membership.sync(1) is True
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) < 30
    async with db.session() as session:
        joined = await session.execute(select(func.count(Participant.member_id)))
        assert joined.scalar_one() == 1_200


async def test_a_renamed_or_moved_member_is_updated_by_the_sync(db: Database) -> None:
    team = Team(db, MONDAY_0800)
    await team.type(person("UANA"), "standup setup at 09:30")
    team.runtime.rosters[PLATFORM] = ChannelRoster([Person("UANA", "Ana Lima", "Asia/Tokyo")])
    await team.standups.membership.sync(1)
    async with db.session() as session:
        ana = (
            await session.execute(select(Member).where(Member.external_id == "UANA"))
        ).scalar_one()
    assert (ana.name, ana.tz) == ("Ana Lima", "Asia/Tokyo")


class Flaky(ChannelRoster):
    """A platform that cannot answer the first time it is asked."""

    def __init__(self, people: list[Person]) -> None:
        super().__init__(people)
        self.asked = 0

    async def members(self, workspace: str, channel: str) -> list[Person] | None:
        self.asked += 1
        return None if self.asked == 1 else await super().members(workspace, channel)


async def test_a_cached_roster_asks_once_per_channel_and_keeps_no_failure() -> None:
    platform = Flaky([Person("UANA", "Ana", None)])
    roster = CachedRoster(platform, ttl=600)
    assert await roster.members("W1", "C1") is None
    assert await roster.members("W1", "C1") == [Person("UANA", "Ana", None)]
    assert await roster.members("W1", "C1") == [Person("UANA", "Ana", None)]
    await roster.members("W1", "C2")
    assert platform.asked == 3
