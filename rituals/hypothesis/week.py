"""A channel's hypotheses over a week, for the weekly digest: bets proposed, bets closed with
their outcome and lesson, check-ins that changed a bet's status, and what is still open."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.hypothesis import store, views
from rituals.hypothesis.models import Hypothesis, HypothesisPoint
from rituals.kinds import Week
from rituals.messages import plural
from rituals.schedule import local_date
from storage.models import Channel

SHOWN = 6  # bets named per list; the counts hold the rest


async def week(
    session: AsyncSession, channel: Channel, since: datetime, until: datetime
) -> list[Week]:
    ritual = await store.existing_ritual(session, channel.id)
    if ritual is None:
        return []
    bets = list(
        (
            await session.execute(
                select(Hypothesis)
                .where(
                    Hypothesis.channel_id == channel.id,
                    Hypothesis.created_at < until,
                    or_(Hypothesis.closed_at.is_(None), Hypothesis.closed_at >= since),
                )
                .order_by(Hypothesis.number)
            )
        ).scalars()
    )
    proposed = [h for h in bets if h.created_at >= since]
    closed = [h for h in bets if h.closed_at is not None and h.closed_at < until]
    still = [h for h in bets if h.closed_at is None or h.closed_at >= until]
    changes, checkins = await _status_changes(session, bets, still, since, until)
    today = local_date(until, ritual.tz)
    overdue = [h for h in still if h.deadline is not None and h.deadline < today]
    lines = [
        f"{len(proposed)} proposed, {len(closed)} closed, {plural(checkins, 'check-in')}, "
        f"{len(still)} open ({len(overdue)} overdue)"
    ]
    lines += [
        f"Proposed: #{h.number} we believe {views.short(h.belief, 100)} will result in "
        f"{views.short(h.result, 80)} (target {views.goal(h)})"
        for h in proposed[:SHOWN]
    ]
    for h in closed[:SHOWN]:
        learned = f" — learned: {views.short(h.outcome_note, 160)}" if h.outcome_note else ""
        lines.append(f"Closed {h.state}: #{h.number} {views.short(h.belief, 100)}{learned}")
    lines += changes[:SHOWN]
    lines += [
        f"Overdue: #{h.number} {views.short(h.belief, 100)} (due {h.deadline})"
        for h in overdue[:SHOWN]
    ]
    counts = {
        "proposed": len(proposed),
        "closed": len(closed),
        "validated": sum(1 for h in closed if h.state == "validated"),
        "invalidated": sum(1 for h in closed if h.state == "invalidated"),
        "check-ins": checkins,
        "open": len(still),
        "overdue": len(overdue),
    }
    return [Week(store.KIND, "Hypotheses", tuple(lines), counts)]


async def _status_changes(
    session: AsyncSession,
    bets: list[Hypothesis],
    still: list[Hypothesis],
    since: datetime,
    until: datetime,
) -> tuple[list[str], int]:
    """Lines for the bets still open whose status moved during the week (``#2 now at risk,
    was on track``), and how many check-ins all of them had."""
    if not bets:
        return [], 0
    rows = await session.execute(
        select(HypothesisPoint.hypothesis_id, HypothesisPoint.at, HypothesisPoint.status)
        .where(
            HypothesisPoint.hypothesis_id.in_([h.id for h in bets]),
            HypothesisPoint.status.is_not(None),
            HypothesisPoint.at < until,
        )
        .order_by(HypothesisPoint.hypothesis_id, HypothesisPoint.at, HypothesisPoint.id)
    )
    before: dict[int, str] = {}
    after: dict[int, str] = {}
    checkins = 0
    for hypothesis_id, at, status in rows.tuples():
        if at < since:
            before[hypothesis_id] = status
        else:
            after[hypothesis_id] = status
            checkins += 1
    lines = []
    for h in still:
        now, was = after.get(h.id), before.get(h.id)
        if now is None or now == was:
            continue
        label = views.STATUS_LABEL.get(now, now)
        since_label = f", was {views.STATUS_LABEL.get(was, was)}" if was else ""
        lines.append(f"#{h.number} now {label}{since_label}: {views.short(h.belief, 100)}")
    return lines, checkins
