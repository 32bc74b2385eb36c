"""Process-wide values kept in the database, such as the generated secret key."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import AppSetting
from storage.queries import insert_ignoring_conflicts

SECRET_KEY = "secret_key"


async def secret_key(db: Database) -> str:
    """The key that signs links and webhook tokens: made once, then shared by every process."""
    async with db.session() as session:
        return await stored_key(session)


async def stored_key(session: AsyncSession) -> str:
    """`secret_key`, read (or made) in the caller's unit of work."""
    stmt = insert_ignoring_conflicts(session, AppSetting, ["key"])
    await session.execute(stmt.values(key=SECRET_KEY, value=secrets.token_urlsafe(32)))
    row = await session.execute(select(AppSetting.value).where(AppSetting.key == SECRET_KEY))
    return row.scalar_one()


async def hold(
    db: Database,
    role: str,
    holder: str,
    now: datetime,
    *,
    stale_after: timedelta,
    gone: Callable[[str], bool],
) -> str | None:
    """Take (or renew) a role only one process may have at a time, such as the console;
    None when taken, else who keeps it: a holder that renewed within ``stale_after`` and is
    not ``gone``."""
    async with db.session() as session:
        stmt = insert_ignoring_conflicts(session, AppSetting, ["key"])
        mine = f"{holder}|{now.isoformat()}"
        await session.execute(stmt.values(key=role, value=mine))
        row = (
            await session.execute(
                select(AppSetting).where(AppSetting.key == role).with_for_update()
            )
        ).scalar_one()
        other, _, stamp = row.value.partition("|")
        if other != holder and not gone(other):
            try:
                fresh = now - datetime.fromisoformat(stamp) < stale_after
            except ValueError:
                fresh = False
            if fresh:
                return other
        row.value = mine
    return None


async def let_go(db: Database, role: str, holder: str) -> None:
    async with db.session() as session:
        await session.execute(
            delete(AppSetting).where(AppSetting.key == role, AppSetting.value.startswith(holder))
        )
