"""A channel's alerts over a week, for the weekly digest: how many fired, were acknowledged
and resolved, the worst of them, and what is still firing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.alerts import cards
from rituals.alerts.channel import KIND, existing_ritual
from rituals.alerts.models import Alert
from rituals.kinds import Week
from rituals.people import display
from storage.models import Channel, Member

SHOWN = 5
# Worst first: what a pager calls critical, then errors, then the rest.
SEVERITY = {"critical": 0, "page": 0, "fatal": 0, "error": 1, "high": 1, "warning": 2}


async def week(
    session: AsyncSession, channel: Channel, since: datetime, until: datetime
) -> list[Week]:
    ritual = await existing_ritual(session, channel.id)
    if ritual is None:
        return []
    rows = await session.execute(
        select(Alert, Member)
        .outerjoin(Member, Member.id == Alert.acked_by)
        .where(
            Alert.ritual_id == ritual.id,
            Alert.fired_at < until,
            or_(Alert.resolved_at.is_(None), Alert.resolved_at >= since),
        )
        .order_by(Alert.fired_at, Alert.id)
    )
    seen = list(rows.tuples())
    fired = [a for a, _m in seen if a.fired_at >= since]
    acked = [a for a, _m in seen if a.acked_at is not None and since <= a.acked_at < until]
    resolved = [a for a, _m in seen if a.resolved_at is not None and a.resolved_at < until]
    firing = [(a, m) for a, m in seen if a.resolved_at is None or a.resolved_at >= until]
    lines = [
        f"{len(fired)} fired, {len(acked)} acknowledged, {len(resolved)} resolved, "
        f"{len(firing)} still firing"
    ]
    worst = None
    if seen:
        worst, acker = min(seen, key=lambda pair: _worst(pair[0], until))
        lines.append(f"Worst: {_line(worst, acker, until)}")
    others = [(a, m) for a, m in firing if a is not worst]
    lines += [f"Still firing: {_line(a, m, until)}" for a, m in others[:SHOWN]]
    counts = {
        "fired": len(fired),
        "acknowledged": len(acked),
        "resolved": len(resolved),
        "firing": len(firing),
    }
    return [Week(KIND, "Model alerts", tuple(lines), counts)]


def _ended(alert: Alert, until: datetime) -> datetime | None:
    """When the alert was resolved, if that was before the end of the week."""
    return alert.resolved_at if alert.resolved_at and alert.resolved_at < until else None


def _worst(alert: Alert, until: datetime) -> tuple[int, float, int]:
    lasted = (_ended(alert, until) or until) - alert.fired_at
    return SEVERITY.get(alert.severity, 3), -lasted.total_seconds(), alert.id


def _line(alert: Alert, acker: Member | None, until: datetime) -> str:
    """``#3 ranker recall = 0.71 (threshold 0.8) [critical], 5 h, acknowledged by Ana``."""
    ended = _ended(alert, until)
    lasted = cards.duration((ended or until) - alert.fired_at)
    how = "resolved after" if ended else "firing for"
    text = f"{cards.headline(alert, fired=True)} [{alert.severity}], {how} {lasted}"
    if alert.acked_at is not None and alert.acked_at < until:
        text += f", acknowledged by {display(acker) if acker else 'someone'}"
    else:
        text += ", not acknowledged"
    return text
