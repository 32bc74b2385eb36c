"""The outbox: outbound messages written in the caller's transaction, drained by workers.

Claims are leases: a worker that dies mid-send loses its claim when the lease expires and
another worker (or the same process after a restart) sends the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import before_commit
from storage.models import OutboxMessage
from storage.queries import claim_lane_heads, inserting_once, prepared

OUTBOX = OutboxMessage.__table__
# Messages stored by this process so far: a request that stored none need not wake delivery.
_stored = 0


def stored() -> int:
    """How many messages this process has stored: compare two readings to learn whether
    anything was queued in between."""
    return _stored


@dataclass(frozen=True)
class Envelope:
    """Where a message goes. ``thread_of``/``update_of`` name earlier outbox rows."""

    platform: str
    workspace: str
    op: str  # post | direct | update | ephemeral
    channel: str | None = None
    user: str | None = None
    thread_of: int | None = None
    update_of: int | None = None
    dedup_key: str | None = None
    via: str | None = None
    keep: bool = True  # False: deleted once sent (or given up), leaving no delivery record

    def lane(self, one_lane: frozenset[str] = frozenset()) -> str:
        """Messages of one lane go out in order: a channel, a person's DM, or the private
        replies one person gets in one channel (those need no place in the channel's queue).

        A platform in ``one_lane`` (its one reader sees channel and private messages on one
        screen, as in a terminal) keeps all its messages in one lane, in the order made.
        """
        if self.platform in one_lane:
            return f"{self.platform}:{self.workspace}"
        if self.op == "direct":
            place = f"dm:{self.user}"
        elif self.op == "ephemeral":
            place = f"eph:{self.channel}:{self.user}"
        else:
            place = f"ch:{self.channel}"
        return f"{self.platform}:{self.workspace}:{place}"


Payload = dict[str, Any]


def _one_lane(session: AsyncSession) -> frozenset[str]:
    """The lane rules the composition root handed the database (`Database.one_lane`)."""
    return frozenset(session.info.get("one_lane", ()))


def _row(
    envelope: Envelope, payload: Payload, now: datetime, one_lane: frozenset[str]
) -> dict[str, Any]:
    return {
        "platform": envelope.platform,
        "workspace": envelope.workspace,
        "lane": envelope.lane(one_lane),
        "op": envelope.op,
        "channel": envelope.channel,
        "user": envelope.user,
        "thread_of": envelope.thread_of,
        "update_of": envelope.update_of,
        "payload": payload,
        "dedup_key": envelope.dedup_key,
        "via": envelope.via,
        "keep": envelope.keep,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _insert() -> Any:
    values = _row(Envelope("", "", ""), {}, datetime.min, frozenset())
    return insert(OUTBOX).values({name: bindparam(name) for name in values})


def _insert_once(session: AsyncSession, returning: str | None = None) -> Any:
    """Messages whose dedup key was already used are skipped."""
    columns = list(_row(Envelope("", "", ""), {}, datetime.min, frozenset()))
    return inserting_once(session, OUTBOX, columns, ["dedup_key"], returning=returning)


async def enqueue(
    session: AsyncSession, envelope: Envelope, payload: Payload, now: datetime
) -> int | None:
    """Store one message; returns its id, or ``None`` when its dedup key was already used."""
    global _stored
    _stored += 1
    row_values = _row(envelope, payload, now, _one_lane(session))
    await _write_gathered(session)
    if envelope.dedup_key is None:
        stmt = prepared(session, "outbox insert", lambda: _insert().returning(OUTBOX.c.id))
    else:
        stmt = prepared(session, "outbox insert once", lambda: _insert_once(session, "id"))
    result = await session.execute(stmt, row_values)
    return result.scalar_one_or_none()


async def enqueue_many(
    session: AsyncSession, items: list[tuple[Envelope, Payload]], now: datetime
) -> None:
    """Store many messages in one statement: the fan-out path."""
    global _stored
    _stored += len(items)
    if items:
        await _write_gathered(session)
        one_lane = _one_lane(session)
        stmt = prepared(session, "outbox insert many", lambda: _insert_once(session))
        await session.execute(stmt, [_row(env, body, now, one_lane) for env, body in items])


# The unit of work's messages stored when it commits, in the order queued.
_GATHERED = "outbox rows at commit"


def enqueue_at_commit(
    session: AsyncSession, envelope: Envelope, payload: Payload, now: datetime
) -> None:
    """Store one message when the unit of work commits: a batch's replies then take one
    statement, not one each. For a message nothing refers to (its id is not returned) and
    that has no dedup key; one stored any other way meanwhile goes after it, in order."""
    global _stored
    if envelope.dedup_key is not None:
        raise ValueError("a message with a dedup key is stored at once, by enqueue")
    _stored += 1
    gathered = session.info.setdefault(_GATHERED, [])
    gathered.append(_row(envelope, payload, now, _one_lane(session)))
    before_commit(session, _GATHERED, _write_gathered)


async def _write_gathered(session: AsyncSession) -> None:
    rows = session.info.pop(_GATHERED, None)
    if rows:
        await session.execute(prepared(session, "outbox insert gathered", _insert), rows)


async def claim(
    session: AsyncSession,
    worker: str,
    now: datetime,
    *,
    platforms: list[str],
    limit: int,
    lease: timedelta,
) -> list[OutboxMessage]:
    """Take up to ``limit`` sendable messages, each the oldest unsent one of its lane."""
    return await claim_lane_heads(
        session,
        OutboxMessage,
        worker,
        now,
        platforms=platforms,
        limit=limit,
        lease=lease,
        waiting=[OutboxMessage.status == "pending"],
    )


async def refs(session: AsyncSession, ids: set[int]) -> dict[int, OutboxMessage]:
    """Rows that claimed messages thread under or update, to learn where they landed."""
    if not ids:
        return {}
    rows = await session.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return {row.id: row for row in rows.scalars()}


async def mark_sent(
    session: AsyncSession, results: list[tuple[int, str, str]], now: datetime
) -> None:
    """Record deliveries: (id, channel, ref) each, all in one round-trip."""
    if not results:
        return
    table = OutboxMessage.__table__
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("msg_id"), table.c.status == "pending")
        .values(
            status="sent",
            sent_channel=bindparam("b_channel"),
            sent_ref=bindparam("b_ref"),
            sent_at=now,
            claimed_until=None,
        ),
        [{"msg_id": i, "b_channel": c, "b_ref": r} for i, c, r in results],
    )


async def forget(session: AsyncSession, ids: list[int]) -> None:
    """Delete messages not to be kept, once sent or given up, in one round-trip."""
    if ids:
        await session.execute(
            delete(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.keep.is_(False))
            .execution_options(synchronize_session=False)
        )


async def mark_failed(
    session: AsyncSession,
    msg_id: int,
    *,
    worker: str,
    error: str,
    retry_at: datetime | None,
    attempts: int,
) -> None:
    """Put a message back for a later try, or give it up (``retry_at`` None) for good.

    Only while ``worker`` still holds the claim: a worker whose lease ran out must not undo
    another worker's delivery.
    """
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == msg_id,
            OutboxMessage.claimed_by == worker,
            OutboxMessage.status == "pending",
        )
        .values(
            status="pending" if retry_at else "dead",
            attempts=attempts,
            next_attempt_at=retry_at or OutboxMessage.next_attempt_at,
            claimed_until=None,
            last_error=error[:2000],
        )
        .execution_options(synchronize_session=False)
    )
