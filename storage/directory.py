"""Workspaces, channels and members, created on first sight and kept current.

Every request names its workspace, person and channel by platform ids. Their rows are never
deleted, so the row ids, once known, are kept per process (`Seen`) and the three rows come back
in one statement that also checks each still carries the platform ids it was cached for, so a
cache entry cannot go stale across processes: a row that changed or vanished is looked up again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from storage.models import Base, Channel, Member, Workspace
from storage.queries import insert_ignoring_conflicts, prepared

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
    """A channel of the workspace, made on first sight (the CLI names channels too)."""
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


class Seen:
    """Row ids by platform ids, learned from committed rows; bounded, oldest first out."""

    LIMIT = 100_000

    def __init__(self) -> None:
        self._ids: dict[tuple[str, ...], int] = {}

    def get(self, key: tuple[str, ...]) -> int | None:
        return self._ids.get(key)

    def put(self, key: tuple[str, ...], row_id: int) -> None:
        if len(self._ids) >= self.LIMIT:
            self._ids.pop(next(iter(self._ids)))
        self._ids[key] = row_id


async def resolve(
    session: AsyncSession,
    seen: Seen,
    platform: str,
    workspace_id: str,
    user: tuple[str, str, str | None],
    place_of: tuple[str, str] | None,
    now: datetime,
) -> tuple[Workspace, Member, Channel | None]:
    """The workspace, member (external id, name, tz) and channel (external id, name) of one
    request: one SELECT when their ids are known or the rows exist, else created; their ids
    are remembered either way."""
    ws_key = (platform, workspace_id)
    member_key = (*ws_key, "member", user[0])
    channel_key = (*ws_key, "channel", place_of[0]) if place_of else None
    ids = (seen.get(ws_key), seen.get(member_key), seen.get(channel_key) if channel_key else 0)
    cached = ids if None not in ids else None
    found = await _found(session, platform, workspace_id, user[0], place_of, cached)  # type: ignore[arg-type]
    if found is None:
        ws = await workspace(session, platform, workspace_id, now)
        person = await member(session, ws.id, *user)
        place = await channel(session, ws.id, *place_of) if place_of else None
        found = ws, person, place
    ws, person, place = found
    seen.put(ws_key, ws.id)
    seen.put(member_key, person.id)
    if channel_key and place is not None:
        seen.put(channel_key, place.id)
    _refresh(person, user[1], user[2])
    if place is not None and place_of is not None and place_of[1] and place.name != place_of[1]:
        place.name = place_of[1]
    return ws, person, place


def _found_statement(with_channel: bool, by_ids: bool) -> Any:
    """The request's rows by their platform ids; ``by_ids`` also by the row ids cached for
    them, so a cached id that no longer carries those platform ids finds nothing."""
    where = [
        Workspace.platform == bindparam("platform"),
        Workspace.external_id == bindparam("workspace"),
        Member.workspace_id == Workspace.id,
        Member.external_id == bindparam("user"),
    ]
    if by_ids:
        where += [Workspace.id == bindparam("ws_id"), Member.id == bindparam("member_id")]
    if not with_channel:
        return select(Workspace, Member).where(*where)
    where += [Channel.workspace_id == Workspace.id, Channel.external_id == bindparam("channel")]
    if by_ids:
        where.append(Channel.id == bindparam("channel_id"))
    return (
        select(Workspace, Member, Channel).where(*where).options(contains_eager(Channel.workspace))
    )


async def _found(
    session: AsyncSession,
    platform: str,
    workspace_id: str,
    user: str,
    channel: tuple[str, str] | None,
    ids: tuple[int, int, int] | None,
) -> tuple[Workspace, Member, Channel | None] | None:
    """The request's rows in one SELECT: by the ids this process cached for them, or, when
    it has not learned them yet (a person the channel's roster brought in, anyone after a
    restart), by platform ids alone, instead of an insert and a select for each row."""
    with_channel, by_ids = channel is not None, ids is not None
    query = prepared(
        session,
        ("directory", with_channel, by_ids),
        lambda: _found_statement(with_channel, by_ids),
    )
    values: dict[str, Any] = {"platform": platform, "workspace": workspace_id, "user": user}
    if ids is not None:
        values.update(ws_id=ids[0], member_id=ids[1], channel_id=ids[2])
    if channel is not None:
        values["channel"] = channel[0]
    row = (await session.execute(query, values)).first()
    if row is None:
        return None
    return row[0], row[1], row[2] if channel is not None else None


def _refresh(found: Member, name: str, tz: str | None) -> None:
    if name and found.name != name:
        found.name = name
    if tz and found.tz != tz:
        found.tz = tz


async def member(
    session: AsyncSession, workspace_id: int, external_id: str, name: str, tz: str | None
) -> Member:
    """The member row, its name and timezone refreshed from what the platform said now."""
    keys = {"workspace_id": workspace_id, "external_id": external_id}
    found = await _ensure(session, Member, keys, name=name, tz=tz or "UTC")
    _refresh(found, name, tz)
    return found
