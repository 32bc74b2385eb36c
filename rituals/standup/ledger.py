"""The blocker ledger: blockers opened, carried and resolved from people's answers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.standup import blockers as blocker_text
from rituals.standup.roster import display
from rituals.standup.summary import OpenBlocker
from storage.models import Answer, Blocker, Member


async def open_blockers(
    session: AsyncSession, ritual_id: int, *, member_id: int | None = None
) -> list[Blocker]:
    query = select(Blocker).where(Blocker.ritual_id == ritual_id, Blocker.resolved_at.is_(None))
    if member_id is not None:
        query = query.where(Blocker.member_id == member_id)
    return list((await session.execute(query.order_by(Blocker.id))).scalars())


async def record(
    session: AsyncSession, ritual_id: int, member: Member, answer: Answer, day: date, now: datetime
) -> None:
    """Apply a blocker answer: resolve what it says is resolved, open what is new."""
    meaning = blocker_text.read(answer.text)
    mine = await open_blockers(session, ritual_id, member_id=member.id)
    if meaning.resolve_all or meaning.resolve_id is not None:
        for row in mine:
            if meaning.resolve_all or row.id == meaning.resolve_id:
                row.resolved_at = now
                row.resolved_by = member.id
    if meaning.new_text is None:
        return
    new = meaning.new_text.casefold()
    if any(row.resolved_at is None and row.text.casefold() == new for row in mine):
        return
    session.add(
        Blocker(
            ritual_id=ritual_id,
            member_id=member.id,
            answer_id=answer.id,
            text=meaning.new_text,
            unblocker=meaning.unblocker,
            opened_on=day,
            opened_at=now,
        )
    )


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
