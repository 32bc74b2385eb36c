"""Putting a group's message in the channel: posted once, then updated in place.

While an earlier version of the message still waits in the outbox (not yet sent, or an
update not yet made), it is rewritten instead of queueing another: a storm of changes to
one group costs the channel one post and a handful of updates, never one per request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import outbound
from rituals.alerts import cards
from rituals.alerts.models import Alert, AlertGroup
from rituals.telemetry import ALERTS_POSTED
from rituals.where import where_of
from storage.models import Member, OutboxMessage, Ritual


async def names(session: AsyncSession, alerts: list[Alert]) -> dict[int, str]:
    ids = {a.acked_by for a in alerts if a.acked_by is not None}
    if not ids:
        return {}
    rows = await session.execute(select(Member).where(Member.id.in_(ids)))
    return {m.id: m.name or m.external_id for m in rows.scalars()}


async def group_alerts(session: AsyncSession, group_id: int) -> list[Alert]:
    rows = await session.execute(
        select(Alert)
        .where(Alert.group_id == group_id)
        .order_by(Alert.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


async def publish(session: AsyncSession, group: AlertGroup, now: datetime) -> bool:
    """Queue the group as it now stands; True when that was a new post.

    The group's row is locked first: changes to one group take turns rendering it, so the
    one committed last shows all the others.
    """
    await session.execute(
        select(AlertGroup)
        .where(AlertGroup.id == group.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    every = await group_alerts(session, group.id)
    if group.open_key is not None and not any(a.status == "firing" for a in every):
        group.open_key = None  # all resolved: what fires next opens a new message
        group.closed_at = now
    alerts = [a for a in every if not a.muted]
    if not alerts:
        return False
    message = cards.group_message(group, alerts, await names(session, alerts), now)
    where = await where_of(session, await _channel_id(session, group))
    if group.outbox_id is None:
        group.outbox_id = await outbound.queue(
            session, where.post(dedup_key=f"alert-group:{group.id}"), message, now
        )
        ALERTS_POSTED.inc()
        return True
    rewritten = await session.execute(
        update(OutboxMessage)
        .where(
            or_(OutboxMessage.id == group.outbox_id, OutboxMessage.update_of == group.outbox_id),
            OutboxMessage.status == "pending",
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(payload=outbound.payload(message))
        .execution_options(synchronize_session=False)
    )
    if not rewritten.rowcount:  # type: ignore[attr-defined]
        await outbound.queue(session, where.update(group.outbox_id), message, now)
    return False


async def _channel_id(session: AsyncSession, group: AlertGroup) -> int:
    return (await session.get_one(Ritual, group.ritual_id)).channel_id
