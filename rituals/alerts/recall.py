"""A channel's alerts as passages `ask` can draw on: what fired, on which model and metric,
at what value, who acknowledged it and how it ended."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.alerts import cards
from rituals.alerts.channel import existing_ritual
from rituals.alerts.models import WORDS, Alert
from rituals.kinds import Recall, Recalled
from rituals.llm.search import matching, overlapping
from rituals.people import display
from storage.models import Channel, Member

RITUAL = "alert"


async def recall(
    session: AsyncSession, channel: Channel, query: Recall, limit: int
) -> list[Recalled]:
    if not query.terms:
        return []
    ritual = await existing_ritual(session, channel.id)
    if ritual is None:
        return []
    condition, rank = matching(session, WORDS, query.terms)
    ranked = rank.label("rank")
    stmt = (
        select(Alert, Member, ranked)
        .outerjoin(Member, Member.id == Alert.acked_by)
        .where(
            Alert.ritual_id == ritual.id,
            condition,
            *overlapping(Alert.fired_at, Alert.resolved_at, query),
        )
        .order_by(ranked.desc(), Alert.fired_at.desc(), Alert.id)
        .limit(limit)
    )
    return [
        Recalled(RITUAL, alert.fired_at.date(), passage(alert, acker), None, float(score))
        for alert, acker, score in (await session.execute(stmt)).all()
    ]


def passage(alert: Alert, acker: Member | None) -> str:
    """``Alert #3 ranker recall = 0.71 (threshold 0.8) [critical] on ranker recall: … ·
    acknowledged by Ana · resolved after 2 h at 0.82``."""
    about = " ".join(part for part in (alert.model, alert.metric) if part)
    text = f"Alert {cards.headline(alert, fired=True)} [{alert.severity}]"
    if about and about != alert.name:
        text += f" on {about}"
    if alert.summary:
        text += f": {alert.summary}"
    if alert.acked_at is not None:
        who = display(acker) if acker is not None else "someone"
        text += f" · acknowledged by {who} at {alert.acked_at:%H:%M} UTC"
    if alert.resolved_at is not None:
        text += f" · resolved after {cards.duration(alert.resolved_at - alert.fired_at)}"
        if alert.value is not None and alert.value != alert.fired_value:
            text += f" at {alert.value:g}"
    else:
        text += " · still firing"
    if alert.muted:
        text += " · muted"
    return text
