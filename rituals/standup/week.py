"""A channel's stand-ups over a week, for the weekly digest: how many ran, who answered, and
the blockers opened, resolved and still open."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import channel_ritual
from rituals.kinds import Week
from rituals.messages import plural
from rituals.schedule import local_date
from rituals.standup.reports import participation
from rituals.standup.roster import KIND, display
from storage.models import Blocker, Channel, Member, Occurrence

SHOWN = 5  # blockers named per list; the counts hold the rest
PEOPLE = 15  # people named with their answers


async def week(
    session: AsyncSession, channel: Channel, since: datetime, until: datetime
) -> list[Week]:
    ritual = await channel_ritual.find(session, channel.id, KIND)
    if ritual is None:
        return []
    first, last = local_date(since, ritual.tz), local_date(until - timedelta(seconds=1), ritual.tz)
    runs = await session.scalar(
        select(func.count())
        .select_from(Occurrence)
        .where(
            Occurrence.ritual_id == ritual.id,
            Occurrence.local_date >= first,
            Occurrence.local_date <= last,
        )
    )
    people = await participation(session, ritual.id, first, last)
    asked, answered = sum(p.asked for p in people), sum(p.answered for p in people)
    lines: list[str] = []
    if runs:
        rate = round(100 * answered / asked) if asked else 0
        lines.append(f"{plural(runs or 0, 'stand-up')}: {answered} of {asked} answered ({rate}%)")
        shown = ", ".join(f"{p.name} {p.answered}/{p.asked}" for p in people[:PEOPLE])
        more = f" and {len(people) - PEOPLE} more" if len(people) > PEOPLE else ""
        lines.append(f"By person: {shown}{more}")
    else:
        lines.append("No stand-up ran this week.")
    rows = await session.execute(
        select(Blocker, Member)
        .join(Member, Member.id == Blocker.member_id)
        .where(
            Blocker.ritual_id == ritual.id,
            Blocker.opened_at < until,
            or_(Blocker.resolved_at.is_(None), Blocker.resolved_at >= since),
        )
        .order_by(Blocker.opened_at, Blocker.id)
    )
    opened, resolved, still = [], [], []
    for blocker, member in rows.tuples():
        who = display(member)
        if blocker.opened_at >= since:
            opened.append(blocker)
        if blocker.resolved_at is not None and blocker.resolved_at < until:
            resolved.append(f"Resolved: {blocker.text} — {who}")
        else:
            age = (until - blocker.opened_at).days
            still.append(f"Still open after {plural(age, 'day')}: {blocker.text} — {who}")
    lines.append(
        f"Blockers: {len(opened)} opened, {len(resolved)} resolved, {len(still)} still open"
    )
    lines.extend(still[:SHOWN])
    lines.extend(resolved[:SHOWN])
    counts = {
        "stand-ups": runs or 0,
        "asked": asked,
        "answered": answered,
        "blockers opened": len(opened),
        "blockers resolved": len(resolved),
        "blockers open": len(still),
    }
    return [Week(KIND, "Stand-ups", tuple(lines), counts)]
