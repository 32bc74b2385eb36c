"""Statements written once for both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from storage.db import Database
from storage.models import Workspace
from storage.queries import plain

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def test_plain_rows_see_what_the_unit_of_work_changed_so_far(db: Database) -> None:
    async with db.session() as session:
        session.add(Workspace(platform="slack", external_id="T1", name="", created_at=NOW))
        rows = await plain(session, select(func.count(Workspace.id)), {})
        assert rows[0][0] == 1
