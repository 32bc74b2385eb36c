"""Who and where a request comes from: found with as few statements as the cache allows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from storage import directory
from storage.db import Database
from storage.models import Channel, Member, Workspace
from tests.helpers import statements

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def resolve(db: Database, seen: directory.Seen, user: str, channel: str | None) -> Any:
    async with db.session() as session:
        ws, member, place = await directory.resolve(
            session,
            seen,
            "slack",
            "T1",
            (user, user.lower(), "Europe/Berlin"),
            (channel, channel.lower()) if channel else None,
            NOW,
        )
        return ws.external_id, member.external_id, place.external_id if place else None


async def test_people_a_roster_brought_in_are_found_with_one_statement_then_remembered(
    db: Database,
) -> None:
    async with db.session() as session:
        ws = await directory.workspace(session, "slack", "T1", NOW)
        await directory.channel(session, ws.id, "C1", "c1")
        await directory.members(session, ws.id, [("U1", "u1", "Europe/Berlin")])
    seen = directory.Seen()  # a process that has not met them yet
    with statements(db) as first:
        assert await resolve(db, seen, "U1", "C1") == ("T1", "U1", "C1")
    assert [sql.split()[0] for sql in first] == ["SELECT"]
    with statements(db) as again:
        assert await resolve(db, seen, "U1", None) == ("T1", "U1", None)
    assert [sql.split()[0] for sql in again] == ["SELECT"]


async def test_a_first_sight_creates_the_rows_once(db: Database) -> None:
    seen = directory.Seen()
    assert await resolve(db, seen, "U1", "C1") == ("T1", "U1", "C1")
    other_process = directory.Seen()
    assert await resolve(db, other_process, "U1", "C1") == ("T1", "U1", "C1")
    assert await resolve(db, other_process, "U2", "C1") == ("T1", "U2", "C1")
    async with db.session() as session:
        for model, rows in ((Workspace, 1), (Channel, 1), (Member, 2)):
            count = select(func.count()).select_from(model)
            assert (await session.execute(count)).scalar_one() == rows


async def test_a_cached_id_that_no_longer_names_the_person_is_looked_up_again(
    db: Database,
) -> None:
    seen = directory.Seen()
    await resolve(db, seen, "U1", "C1")
    await resolve(db, seen, "U2", "C1")
    other = seen.get(("slack", "T1", "member", "U2"))
    assert other is not None
    seen.put(("slack", "T1", "member", "U1"), other)  # as if the cache had gone wrong
    assert await resolve(db, seen, "U1", "C1") == ("T1", "U1", "C1")
    assert seen.get(("slack", "T1", "member", "U1")) != other
