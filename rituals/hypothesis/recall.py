"""A channel's hypotheses as passages `ask` can draw on: each bet with its outcome and lesson,
and each check-in with what its owner wrote and the value they reported."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from rituals.hypothesis import views
from rituals.hypothesis.models import STATEMENT, Hypothesis, HypothesisPoint
from rituals.hypothesis.store import OPEN_STATES
from rituals.kinds import Recall, Recalled
from rituals.llm.search import matching, overlapping, within
from rituals.people import display
from storage.models import Channel, Member

RITUAL = "hypothesis"


async def recall(
    session: AsyncSession, channel: Channel, query: Recall, limit: int
) -> list[Recalled]:
    if not query.terms:
        return []
    found = [
        *await _bets(session, channel, query, limit),
        *await _checkins(session, channel, query, limit),
    ]
    found.sort(key=lambda r: (-r.rank, -r.day.toordinal()))
    return found[:limit]


async def _bets(
    session: AsyncSession, channel: Channel, query: Recall, limit: int
) -> list[Recalled]:
    """Bets whose canvas or lesson match, open at some time during the days asked about."""
    condition, rank = matching(session, STATEMENT, query.terms)
    ranked = rank.label("rank")
    owner = aliased(Member)
    stmt = (
        select(Hypothesis, owner, ranked)
        .outerjoin(owner, owner.id == Hypothesis.owner_id)
        .where(
            Hypothesis.channel_id == channel.id,
            condition,
            *overlapping(Hypothesis.created_at, Hypothesis.closed_at, query),
        )
        .order_by(ranked.desc(), Hypothesis.created_at.desc(), Hypothesis.id)
        .limit(limit)
    )
    found = []
    for h, who, score in (await session.execute(stmt)).all():
        canvas = f"We believe {h.belief} will result in {h.result}; target {views.goal(h)}"
        last = f"; last {h.metric} {views.number(h.recent[-1])}" if h.recent else ""
        if h.state in OPEN_STATES:
            status = views.STATUS_LABEL.get(h.status, h.status)
            text = f"Hypothesis #{h.number} ({h.state}, {status}): {canvas}{last}"
        else:
            learned = f" · learned: {h.outcome_note}" if h.outcome_note else ""
            text = f"Hypothesis #{h.number} closed {h.state}: {canvas}{last}{learned}"
        day = (h.closed_at or h.created_at).date()
        who_name = display(who) if who is not None else None
        found.append(Recalled(RITUAL, day, text, who_name, float(score)))
    return found


async def _checkins(
    session: AsyncSession, channel: Channel, query: Recall, limit: int
) -> list[Recalled]:
    """Check-ins whose words match, made during the days asked about, with their value."""
    condition, rank = matching(session, HypothesisPoint.note, query.terms)
    ranked = rank.label("rank")
    stmt = (
        select(HypothesisPoint, Hypothesis, Member, ranked)
        .join(Hypothesis, Hypothesis.id == HypothesisPoint.hypothesis_id)
        .outerjoin(Member, Member.id == HypothesisPoint.member_id)
        .where(
            Hypothesis.channel_id == channel.id,
            condition,
            *within(HypothesisPoint.at, query),
        )
        .order_by(ranked.desc(), HypothesisPoint.at.desc(), HypothesisPoint.id)
        .limit(limit)
    )
    found = []
    for point, h, who, score in (await session.execute(stmt)).all():
        status = f"{views.STATUS_LABEL.get(point.status, point.status)}" if point.status else ""
        value = f"{h.metric} {views.number(point.value)}" if point.value is not None else ""
        said = " · ".join(part for part in (status, value) if part)
        text = f"Check-in on hypothesis #{h.number} ({views.goal(h)}): {said} — {point.note}"
        who_name = display(who) if who is not None else None
        found.append(Recalled(RITUAL, point.at.date(), text, who_name, float(score)))
    return found
