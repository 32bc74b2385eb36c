"""Statements written once for both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from storage import direct
from storage.db import Database
from storage.models import Workspace

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def test_reads_see_what_the_unit_of_work_added_so_far(db: Database) -> None:
    async with db.session() as session:
        session.add(Workspace(platform="slack", external_id="T1", name="", created_at=NOW))
        count = lambda: select(func.count(Workspace.id))  # noqa: E731
        rows = await direct.rows(session, ("test workspaces", 1), count, {})
        assert rows[0][0] == 1
