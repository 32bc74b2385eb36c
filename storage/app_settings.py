"""Process-wide values kept in the database, such as the generated secret key."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from storage.db import Database
from storage.models import AppSetting
from storage.queries import insert_ignoring_conflicts

SECRET_KEY = "secret_key"


async def secret_key(db: Database) -> str:
    """The key that signs links and webhook tokens: made once, then shared by every process."""
    async with db.session() as session:
        stmt = insert_ignoring_conflicts(session, AppSetting, ["key"])
        await session.execute(stmt.values(key=SECRET_KEY, value=secrets.token_urlsafe(32)))
        row = await session.execute(select(AppSetting.value).where(AppSetting.key == SECRET_KEY))
        return row.scalar_one()
