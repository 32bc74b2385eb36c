"""Workspaces, channels and members, created on first sight and kept current."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base, Channel, Member, Workspace
from storage.queries import insert_ignoring_conflicts

Row = TypeVar("Row", bound=Base)


async def _ensure(
    session: AsyncSession, model: type[Row], keys: dict[str, Any], **fresh: Any
) -> Row:
    """The row with ``keys``, inserted with ``fresh`` if new; concurrent callers agree on one."""
    stmt = insert_ignoring_conflicts(session, model, list(keys))
    await session.execute(stmt.values(**keys, **fresh))
    query = select(model).where(*(getattr(model, k) == v for k, v in keys.items()))
    return (await session.execute(query)).scalar_one()


async def workspace(
    session: AsyncSession, platform: str, external_id: str, now: datetime
) -> Workspace:
    keys = {"platform": platform, "external_id": external_id}
    return await _ensure(session, Workspace, keys, name="", created_at=now)


async def channel(session: AsyncSession, workspace_id: int, external_id: str, name: str) -> Channel:
    keys = {"workspace_id": workspace_id, "external_id": external_id}
    found = await _ensure(session, Channel, keys, name=name)
    if name and found.name != name:
        found.name = name
    return found


CHUNK = 500


async def members(
    session: AsyncSession, workspace_id: int, people: list[tuple[str, str, str | None]]
) -> dict[str, Member]:
    """Many members at once (a channel's roster): (external id, name, tz) each, by external
    id. A few statements per 500 people instead of two per person; rows are written in id
    order, so two syncs of overlapping channels cannot deadlock each other."""
    people = sorted({ext: (ext, name, tz) for ext, name, tz in people}.values())
    found: dict[str, Member] = {}
    for start in range(0, len(people), CHUNK):
        chunk = people[start : start + CHUNK]
        stmt = insert_ignoring_conflicts(session, Member, ["workspace_id", "external_id"])
        await session.execute(
            stmt,
            [
                {"workspace_id": workspace_id, "external_id": ext, "name": name, "tz": tz or "UTC"}
                for ext, name, tz in chunk
            ],
        )
        rows = await session.execute(
            select(Member).where(
                Member.workspace_id == workspace_id,
                Member.external_id.in_([ext for ext, _, _ in chunk]),
            )
        )
        found.update((row.external_id, row) for row in rows.scalars())
    for ext, name, tz in people:
        row = found[ext]
        if name and row.name != name:
            row.name = name
        if tz and row.tz != tz:
            row.tz = tz
    return found


async def member(
    session: AsyncSession, workspace_id: int, external_id: str, name: str, tz: str | None
) -> Member:
    """The member row, its name and timezone refreshed from what the platform said now."""
    keys = {"workspace_id": workspace_id, "external_id": external_id}
    found = await _ensure(session, Member, keys, name=name, tz=tz or "UTC")
    if name and found.name != name:
        found.name = name
    if tz and found.tz != tz:
        found.tz = tz
    return found
