"""Workspaces, channels and members, created on first sight and kept current."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Channel, Member, Workspace
from storage.queries import insert_ignoring_conflicts


async def workspace(
    session: AsyncSession, platform: str, external_id: str, now: datetime
) -> Workspace:
    stmt = insert_ignoring_conflicts(session, Workspace, ["platform", "external_id"])
    await session.execute(
        stmt.values(platform=platform, external_id=external_id, name="", created_at=now)
    )
    row = await session.execute(
        select(Workspace).where(
            Workspace.platform == platform, Workspace.external_id == external_id
        )
    )
    return row.scalar_one()


async def channel(session: AsyncSession, workspace_id: int, external_id: str, name: str) -> Channel:
    stmt = insert_ignoring_conflicts(session, Channel, ["workspace_id", "external_id"])
    await session.execute(
        stmt.values(workspace_id=workspace_id, external_id=external_id, name=name)
    )
    found = (
        await session.execute(
            select(Channel).where(
                Channel.workspace_id == workspace_id, Channel.external_id == external_id
            )
        )
    ).scalar_one()
    if name and found.name != name:
        found.name = name
    return found


async def member(
    session: AsyncSession, workspace_id: int, external_id: str, name: str, tz: str | None
) -> Member:
    """The member row, its name and timezone refreshed from what the platform said now."""
    stmt = insert_ignoring_conflicts(session, Member, ["workspace_id", "external_id"])
    await session.execute(
        stmt.values(workspace_id=workspace_id, external_id=external_id, name=name, tz=tz or "UTC")
    )
    found = (
        await session.execute(
            select(Member).where(
                Member.workspace_id == workspace_id, Member.external_id == external_id
            )
        )
    ).scalar_one()
    if name and found.name != name:
        found.name = name
    if tz and found.tz != tz:
        found.tz = tz
    return found
