"""Participation reports and the CSV export of every answer."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, Member, Occurrence, Response, Ritual

EXPORT_COLUMNS = (
    "date",
    "channel",
    "member_id",
    "member",
    "question_number",
    "question",
    "answer",
    "answered_at",
    "edited_at",
    "late",
)


@dataclass(frozen=True)
class Participation:
    name: str
    asked: int
    answered: int

    @property
    def rate(self) -> int:
        return round(100 * self.answered / self.asked) if self.asked else 0


async def participation(
    session: AsyncSession, ritual_id: int, start: date, end: date
) -> list[Participation]:
    """Per person: stand-ups they were asked in ``[start, end]`` and how many they finished."""
    rows = await session.execute(
        select(Member, Response.completed_at, Response.cancelled_at)
        .join(Response, Response.member_id == Member.id)
        .join(Occurrence, Occurrence.id == Response.occurrence_id)
        .where(
            Occurrence.ritual_id == ritual_id,
            Occurrence.local_date >= start,
            Occurrence.local_date <= end,
        )
    )
    names: dict[int, str] = {}
    asked: Counter[int] = Counter()
    answered: Counter[int] = Counter()
    for member, completed_at, cancelled_at in rows.all():
        names[member.id] = member.name or member.external_id
        asked[member.id] += 1
        if completed_at is not None and cancelled_at is None:
            answered[member.id] += 1
    return sorted(
        (Participation(names[i], asked[i], answered[i]) for i in names),
        key=lambda p: p.name.lower(),
    )


async def export_csv(
    session: AsyncSession,
    ritual: Ritual,
    start: date | None,
    end: date | None,
    *,
    member_id: int | None = None,
) -> tuple[str, int]:
    """Every answer of the channel's stand-up in the date range (only ``member_id``'s, when
    given), as CSV text and a row count."""
    query = (
        select(Occurrence.local_date, Member, Answer, Response.late)
        .join(Response, Response.id == Answer.response_id)
        .join(Occurrence, Occurrence.id == Response.occurrence_id)
        .join(Member, Member.id == Response.member_id)
        .where(Occurrence.ritual_id == ritual.id)
        .order_by(Occurrence.local_date, Member.name, Answer.question_index)
    )
    if member_id is not None:
        query = query.where(Response.member_id == member_id)
    if start is not None:
        query = query.where(Occurrence.local_date >= start)
    if end is not None:
        query = query.where(Occurrence.local_date <= end)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for day, member, answer, late in (await session.execute(query)).all():
        writer.writerow(
            (
                day.isoformat(),
                ritual.channel.name or ritual.channel.external_id,
                member.external_id,
                member.name,
                answer.question_index + 1,
                answer.question,
                _neutralize(answer.text),
                answer.answered_at.isoformat(),
                answer.edited_at.isoformat() if answer.edited_at else "",
                "yes" if late else "no",
            )
        )
        count += 1
    return buffer.getvalue(), count


def _neutralize(value: str) -> str:
    """Keep spreadsheet apps from running an answer that starts like a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
