"""The typed models' own rules, where the database must agree with Python."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import product

from sqlalchemy import select

from storage.db import Database
from storage.models import Member, Workspace

DAY = date(2026, 3, 10)
AROUND = [None, DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)]


async def test_away_on_in_sql_agrees_with_is_away_for_every_combination(db: Database) -> None:
    async with db.session() as session:
        workspace = Workspace(platform="slack", external_id="T1", created_at=datetime.now(UTC))
        session.add(workspace)
        await session.flush()
        members = [
            Member(
                workspace_id=workspace.id,
                external_id=f"U{n}",
                status_away=status_away,
                status_away_until=status_until,
                away_since=since,
                away_until=until,
            )
            for n, (status_away, status_until, since, until) in enumerate(
                product([False, True], AROUND, AROUND, AROUND)
            )
        ]
        session.add_all(members)
        await session.flush()
        away = set(await session.scalars(select(Member.id).where(Member.away_on(DAY))))
    expected = {m.id for m in members if m.is_away(DAY)}
    assert expected and len(expected) < len(members)
    assert away == expected
