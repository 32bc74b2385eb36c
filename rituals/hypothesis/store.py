"""A channel's hypothesis ritual, its hypotheses by number, and the writes every path shares:
a point of the series, a step of the history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import channel_ritual
from rituals.hypothesis.models import Hypothesis, HypothesisEvent, HypothesisPoint
from storage.models import Channel, Ritual
from storage.queries import insert_ignoring_conflicts

KIND = "hypothesis"
OPEN_STATES = ("proposed", "testing")
RECENT = 12  # values kept on the row for sparklines


async def ritual_for(session: AsyncSession, channel: Channel, tz: str, now: datetime) -> Ritual:
    """The channel's hypothesis ritual, made on first use (in the zone of its maker), locked
    so two hypotheses added at once take turns for their numbers."""
    return await channel_ritual.ensure(session, channel.id, KIND, tz, now, lock=True)


async def existing_ritual(
    session: AsyncSession, channel_id: int, *, lock: bool = False
) -> Ritual | None:
    """``lock`` makes two hypotheses added at once take turns for their numbers."""
    return await channel_ritual.find(session, channel_id, KIND, lock=lock)


async def next_number(session: AsyncSession, ritual_id: int) -> int:
    found = await session.execute(
        select(func.max(Hypothesis.number)).where(Hypothesis.ritual_id == ritual_id)
    )
    return (found.scalar_one_or_none() or 0) + 1


async def find(
    session: AsyncSession, channel_id: int, number: int, *, lock: bool = False
) -> Hypothesis | None:
    """Hypothesis ``#number`` of this channel; another channel's is simply not found."""
    query = select(Hypothesis).where(
        Hypothesis.channel_id == channel_id, Hypothesis.number == number
    )
    if lock:
        query = query.with_for_update()
    return (
        await session.execute(query.execution_options(populate_existing=True))
    ).scalar_one_or_none()


async def owned(
    session: AsyncSession, owner_id: int, number: int, *, lock: bool = False
) -> list[Hypothesis]:
    """The person's own hypotheses numbered ``number`` (one per channel), for private use."""
    query = select(Hypothesis).where(Hypothesis.owner_id == owner_id, Hypothesis.number == number)
    if lock:
        query = query.with_for_update()
    return list((await session.execute(query)).scalars())


def note(
    session: AsyncSession,
    hypothesis: Hypothesis,
    state: str,
    now: datetime,
    member_id: int | None = None,
    text: str = "",
) -> None:
    session.add(
        HypothesisEvent(
            hypothesis_id=hypothesis.id, at=now, member_id=member_id, state=state, note=text
        )
    )


async def add_point(
    session: AsyncSession,
    hypothesis: Hypothesis,
    now: datetime,
    *,
    value: float | None,
    status: str | None = None,
    text: str = "",
    member_id: int | None = None,
    source: str | None = None,
    at: datetime | None = None,
) -> bool:
    """Store one point and keep the row's recent values; False when ``source`` was already
    stored for this hypothesis (a repeat changes nothing). The caller holds the row."""
    stmt = insert_ignoring_conflicts(session, HypothesisPoint, ["hypothesis_id", "source"])
    result = await session.execute(
        stmt.values(
            hypothesis_id=hypothesis.id,
            at=at or now,
            value=value,
            status=status,
            note=text,
            member_id=member_id,
            source=source,
        ).returning(HypothesisPoint.id)
    )
    if result.scalar_one_or_none() is None:
        return False
    hypothesis.points += 1
    hypothesis.last_point_at = now
    if value is not None:
        hypothesis.recent = [*hypothesis.recent, value][-RECENT:]
    if status is not None:
        hypothesis.status = status
    if hypothesis.state == "proposed":
        hypothesis.state = "testing"
        note(session, hypothesis, "testing", now, member_id)
    return True


def meets(hypothesis: Hypothesis, value: float) -> bool:
    """Whether ``value`` reaches the target the canvas names."""
    target = hypothesis.target
    match hypothesis.op:
        case "<":
            return value < target
        case "<=":
            return value <= target
        case ">":
            return value > target
        case ">=":
            return value >= target
    return value == target
