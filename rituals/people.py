"""Finding the people an ``@name`` in a command or an item means, in one workspace."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member


async def find(
    session: AsyncSession, workspace_id: int, owners: set[str]
) -> dict[str, Member | None]:
    """The member each ``@name`` means (see `_best`), all looked up in one query; None for
    a name nobody, or more than one person, fits."""
    wanted = sorted(o for o in owners if o)
    found: dict[str, Member | None] = dict.fromkeys(owners)
    if not wanted:
        return found
    rows = await session.execute(
        select(Member).where(
            Member.workspace_id == workspace_id, or_(*(_fits(owner) for owner in wanted))
        )
    )
    members = list(rows.scalars())
    for owner in wanted:
        found[owner] = _best(owner, members)
    return found


def _fits(owner: str) -> ColumnElement[bool]:
    wanted = owner.lower()
    prefix = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(
        Member.external_id == owner,
        func.lower(Member.name).like(f"{prefix}%", escape="\\"),
        func.lower(func.replace(Member.name, " ", "")) == wanted,
    )


def _best(owner: str, members: list[Member]) -> Member | None:
    """The member an ``@name`` means: their platform id, their name (with or without its
    spaces), or their first name; None when nobody, or more than one person, fits best."""
    wanted = owner.lower()
    ranked: dict[int, list[Member]] = {}
    for member in members:
        name = member.name.lower()
        fits = (
            member.external_id == owner,
            name == wanted,
            name.replace(" ", "") == wanted,
            name.split(" ")[0] == wanted,
        )
        if any(fits):
            ranked.setdefault(fits.index(True), []).append(member)
    best = ranked[min(ranked)] if ranked else []
    return best[0] if len(best) == 1 else None


def display(member: Member) -> str:
    return member.name or member.external_id
