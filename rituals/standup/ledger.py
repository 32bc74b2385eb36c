"""The blocker ledger: blockers opened, carried and resolved from people's answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.standup import blockers as blocker_text
from rituals.standup.roster import display
from rituals.standup.summary import OpenBlocker
from storage import direct
from storage.models import Answer, Blocker, Member


async def open_blockers(session: AsyncSession, ritual_id: int) -> list[Blocker]:
    query = select(Blocker).where(Blocker.ritual_id == ritual_id, Blocker.resolved_at.is_(None))
    return list((await session.execute(query.order_by(Blocker.id))).scalars())


async def record(
    session: AsyncSession, ritual_id: int, member: Member, answer: Answer, day: date, now: datetime
) -> None:
    """Apply a blocker answer: resolve what it says is resolved, open what is new.

    Run at each answer to the blocker question, so its statements go straight to the driver
    (`storage.direct`): the person's open blockers are read as plain rows, not objects."""
    meaning = blocker_text.read(answer.text)
    resolving = meaning.resolve_all or meaning.resolve_id is not None
    if not resolving and meaning.new_text is None:
        return  # "none", the usual answer: nothing to look up
    mine_of = {"ritual": ritual_id, "member": member.id}
    mine = await direct.rows(session, "standup open blockers of", _open_of, mine_of)
    resolved = {
        blocker_id
        for blocker_id, _ in mine
        if meaning.resolve_all or blocker_id == meaning.resolve_id
    }
    if resolved:
        changes = {"resolved_at": now, "resolved_by": member.id}
        which = {"all": meaning.resolve_all, "id": meaning.resolve_id}
        await direct.rows(
            session, "standup blockers resolved", _resolve, {**mine_of, **which, **changes}
        )
        for blocker_id in resolved:
            direct.written(session, Blocker, blocker_id, changes)
    if meaning.new_text is None:
        return
    new = meaning.new_text.casefold()
    if any(i not in resolved and text.casefold() == new for i, text in mine):
        return
    opened = {
        "ritual_id": ritual_id,
        "member_id": member.id,
        "answer_id": answer.id,
        "text": meaning.new_text,
        "unblocker": meaning.unblocker,
        "opened_on": day,
        "opened_at": now,
    }
    await direct.rows(session, "standup blocker opened", _open, opened)


def _open_of() -> Any:
    return (
        select(Blocker.id, Blocker.text)
        .where(
            Blocker.ritual_id == bindparam("ritual"),
            Blocker.member_id == bindparam("member"),
            Blocker.resolved_at.is_(None),
        )
        .order_by(Blocker.id)
    )


def _resolve() -> Any:
    """The person's open blockers that the answer resolves, all or the one named, in one
    statement."""
    table = Blocker.__table__
    return (
        update(table)
        .where(
            table.c.ritual_id == bindparam("ritual"),
            table.c.member_id == bindparam("member"),
            table.c.resolved_at.is_(None),
            or_(bindparam("all", type_=Boolean), table.c.id == bindparam("id")),
        )
        .values(resolved_at=bindparam("resolved_at"), resolved_by=bindparam("resolved_by"))
    )


_OPENED = ("ritual_id", "member_id", "answer_id", "text", "unblocker", "opened_on", "opened_at")


def _open() -> Any:
    return insert(Blocker.__table__).values({name: bindparam(name) for name in _OPENED})


async def reread(
    session: AsyncSession, ritual_id: int, member: Member, answer: Answer, day: date, now: datetime
) -> None:
    """An edited blocker answer: update the blocker it opened, or drop it and read afresh."""
    opened = (
        await session.execute(
            select(Blocker).where(Blocker.answer_id == answer.id, Blocker.resolved_at.is_(None))
        )
    ).scalar_one_or_none()
    meaning = blocker_text.read(answer.text)
    if opened is not None and meaning.new_text is not None:
        opened.text = meaning.new_text
        opened.unblocker = meaning.unblocker
        return
    if opened is not None:
        await session.delete(opened)
        await session.flush()
    await record(session, ritual_id, member, answer, day, now)


async def view(session: AsyncSession, ritual_id: int, day: date) -> list[OpenBlocker]:
    """Open blockers as a summary shows them: oldest first, with their age on ``day``."""
    rows = await session.execute(
        select(Blocker, Member)
        .join(Member, Member.id == Blocker.member_id)
        .where(Blocker.ritual_id == ritual_id, Blocker.resolved_at.is_(None))
        .order_by(Blocker.opened_on, Blocker.id)
    )
    return [
        OpenBlocker(
            id=b.id,
            owner=display(m),
            text=b.text,
            age_days=max(0, (day - b.opened_on).days),
            unblocker=f"@{b.unblocker}" if b.unblocker else None,
            new_today=b.opened_on == day,
        )
        for b, m in rows.all()
    ]
