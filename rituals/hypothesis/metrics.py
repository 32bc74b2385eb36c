"""What the hypothesis kind gives and takes across the seam: metric values arriving from
monitoring join the series of the open hypotheses they match (the owner hears when one
reaches the target), and hypotheses past their deadline or with a missed check-in join the
channel's stand-up summary."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import outbound
from rituals.hypothesis import store, views
from rituals.hypothesis.models import Hypothesis
from rituals.kinds import Handoff, Notice, Taken
from rituals.messages import Button, ButtonStyle, Message, Section
from rituals.schedule import local_date
from rituals.where import where_of
from storage.models import Channel, Member, Ritual

MAX_NOTICES = 20


def _value(details: Any) -> float | None:
    raw = details.get("value")
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _at(details: Any, now: datetime) -> datetime:
    at = details.get("at")
    return at if isinstance(at, datetime) and at.tzinfo is not None and at <= now else now


async def take(
    session: AsyncSession, channel: Channel, handoff: Handoff, now: datetime
) -> Taken | None:
    """A value whose model and metric match open hypotheses of ``channel`` joins each one's
    series; the same ``source`` again adds nothing, and the line says so rather than
    reporting a value added that was not."""
    model, metric = handoff.details.get("model"), handoff.details.get("metric")
    value = _value(handoff.details)
    if not isinstance(model, str) or not isinstance(metric, str) or value is None:
        return None
    rows = await session.execute(
        select(Hypothesis)
        .where(
            Hypothesis.channel_id == channel.id,
            Hypothesis.state.in_(store.OPEN_STATES),
            func.lower(Hypothesis.model) == model.lower(),
            func.lower(Hypothesis.metric) == metric.lower(),
        )
        .order_by(Hypothesis.number)
        .with_for_update()
    )
    found = list(rows.scalars())
    if not found:
        return None
    added = []
    for h in found:
        if await store.add_point(
            session,
            h,
            now,
            value=value,
            text=handoff.label or handoff.title,
            source=handoff.source[:200],
            at=_at(handoff.details, now),
        ):
            added.append(h)
    repeats = [h for h in found if h not in added]
    met = [h for h in added if store.meets(h, value)]
    parts = []
    if added:
        parts.append(f"added to hypothesis {_numbers(added)}")
    if repeats:
        parts.append(f"already recorded for {'' if added else 'hypothesis '}{_numbers(repeats)}")
    for h in met:
        await _suggest_closing(session, h, metric, value, now)
    hint = f" — {_numbers(met)} reached the target" if met else ""
    return Taken(
        f"{metric} {views.number(value)} {'; '.join(parts)}{hint}",
        ref=f"hypothesis:{found[0].id}",
    )


async def _suggest_closing(
    session: AsyncSession, h: Hypothesis, metric: str, value: float, now: datetime
) -> None:
    """The owner hears privately, once per hypothesis, that monitoring reached the target:
    otherwise only the sender of the webhook would ever know."""
    owner = await session.get(Member, h.owner_id) if h.owner_id is not None else None
    if owner is None:
        return
    where = await where_of(session, h.channel_id)
    place = f" in #{where.channel_name}" if where.channel_name else ""
    message = Message(
        text=f"Hypothesis #{h.number}{place} reached its target: monitoring sent "
        f"{metric} {views.number(value)} ({views.goal(h)})",
        sections=[
            Section(
                text=f"We believed {h.belief} would result in {h.result}. Close it? "
                f"`hypothesis close {h.number} validated what we learned`"
            )
        ],
        buttons=[
            Button(
                label="Close as validated",
                action_id="hypothesis.validated",
                value=str(h.id),
                style=ButtonStyle.primary,
            )
        ],
    )
    envelope = where.direct(owner.external_id, dedup_key=f"hypothesis-reached:{h.id}")
    await outbound.queue(session, envelope, message, now)


def _numbers(hypotheses: list[Hypothesis]) -> str:
    return ", ".join(f"#{h.number}" for h in hypotheses)


async def notices(
    session: AsyncSession, channel: Channel, since: datetime | None, now: datetime
) -> list[Notice]:
    ritual = (
        await session.execute(
            select(Ritual).where(Ritual.channel_id == channel.id, Ritual.kind == store.KIND)
        )
    ).scalar_one_or_none()
    if ritual is None:
        return []
    today = local_date(now, ritual.tz)
    rows = await session.execute(
        select(Hypothesis, Member)
        .outerjoin(Member, Member.id == Hypothesis.owner_id)
        .where(
            Hypothesis.ritual_id == ritual.id,
            Hypothesis.state.in_(store.OPEN_STATES),
            or_(Hypothesis.deadline < today, Hypothesis.missed_at.is_not(None)),
        )
        .order_by(Hypothesis.number)
        .limit(MAX_NOTICES)
    )
    lines = []
    for h, owner in rows.tuples():
        why = []
        if h.deadline is not None and h.deadline < today:
            why.append(views.days_left(h, today))
        if h.missed_at is not None:
            why.append("check-in missed")
        who = (owner.name or owner.external_id) if owner is not None else views.NO_OWNER
        lines.append(f"#{h.number} {h.belief} ({views.goal(h)}, {who}): {', '.join(why)}")
    return [Notice("Hypotheses needing attention", tuple(lines))] if lines else []
