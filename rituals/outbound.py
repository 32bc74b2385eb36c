"""Queueing neutral messages for delivery, in the caller's unit of work.

The outbox stores a plain payload; this is where a `Message` becomes one, so storage never
needs the domain's message model.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rituals.messages import Message
from storage import outbox
from storage.outbox import Envelope


def payload(message: Message) -> outbox.Payload:
    return message.model_dump(mode="json", exclude_defaults=True)


async def queue(
    session: AsyncSession, envelope: Envelope, message: Message, now: datetime
) -> int | None:
    """Store one message to send; its outbox id, or None when its dedup key was used."""
    return await outbox.enqueue(session, envelope, payload(message), now)


def queue_at_commit(
    session: AsyncSession, envelope: Envelope, message: Message, now: datetime
) -> None:
    """Store one message with the unit of work's commit: a reply nothing refers to later."""
    outbox.enqueue_at_commit(session, envelope, payload(message), now)


def stored() -> int:
    """A reading of how many messages this process has queued: two readings that differ
    mean delivery has something new to send."""
    return outbox.stored()


async def queue_many(
    session: AsyncSession, items: list[tuple[Envelope, Message]], now: datetime
) -> None:
    await outbox.enqueue_many(session, [(env, payload(msg)) for env, msg in items], now)
