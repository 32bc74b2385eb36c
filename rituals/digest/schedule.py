"""When a channel's digest goes out and how: the weekly setting on the channel's digest
ritual, each week's run claimed once (`rituals.weekly`), and the post itself, plain first and
rewritten in place by the model when the workspace has it on (`rituals.llm.summaries`).

A digest covers the week up to its time: from the start of the day six days before (in the
digest's zone) to the minute it goes out, so Friday's at 16:00 covers Saturday to Friday.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Hashable
from datetime import datetime, time, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import outbound
from rituals.digest import message, written
from rituals.digest.grammar import WORD
from rituals.digest.models import DigestRun
from rituals.kinds import Peers, Slot
from rituals.llm import summaries
from rituals.runtime import Runtime
from rituals.schedule import local_date, local_instant
from rituals.weekly import Weekly, claim
from rituals.where import where_of
from storage.models import Channel, Ritual

log = structlog.get_logger(__name__)

KIND = WORD
OPTION = "weekly"  # where the day and time are kept on the ritual row
DAYS = 7


def setting(ritual: Ritual) -> Weekly | None:
    return Weekly.of(ritual, OPTION)


def week_before(until: datetime, tz: str) -> datetime:
    """The start of the first day of the week that ends at ``until``, in ``tz``."""
    first = local_date(until, tz) - timedelta(days=DAYS - 1)
    return local_instant(first, time(0, 0), tz)


async def post(
    rt: Runtime,
    peers: Peers,
    session: AsyncSession,
    ritual: Ritual,
    until: datetime,
    now: datetime,
    *,
    dedup_key: str | None = None,
) -> int | None:
    """Queue the digest of the week up to ``until`` in the ritual's channel, inside the
    caller's unit of work, and ask for its written version; its outbox id."""
    channel = await session.get_one(Channel, ritual.channel_id)
    since = week_before(until, ritual.tz)
    parts = await peers.week(session, channel, since, until)
    name = channel.name or channel.external_id
    covered = message.period(since, until, ritual.tz)
    plain = message.plain(name, parts, covered)
    rewrite = bool(parts) and await summaries.wanted(session, rt.llm, channel.workspace_id)
    where = await where_of(session, channel.id)
    outbox_id = await outbound.queue(
        session,
        where.post(dedup_key=dedup_key),
        summaries.pending(plain) if rewrite else plain,
        now,
    )
    if rewrite and outbox_id is not None:
        await summaries.request(
            session,
            written.SUMMARY.name,
            workspace_id=channel.workspace_id,
            channel_id=channel.id,
            outbox_id=outbox_id,
            material=message.material(name, parts, covered),
            now=now,
        )
    log.info("digest queued", ritual_id=ritual.id, parts=len(parts), written=rewrite)
    return outbox_id


class Digests:
    """What the scheduler asks the digest kind for: versions, slots, and the runs."""

    def __init__(self, runtime: Runtime, peers: Callable[[], Peers]) -> None:
        self.rt = runtime
        self._peers = peers

    async def versions(
        self, session: AsyncSession, ritual_ids: Collection[int] | None = None
    ) -> dict[int, Hashable]:
        query = select(Ritual).where(Ritual.kind == KIND)
        if ritual_ids is not None:
            query = query.where(Ritual.id.in_(list(ritual_ids)))
        rituals = (await session.execute(query)).scalars().all()
        return {r.id: (r.version, r.tz) for r in rituals if setting(r) is not None}

    async def slots(self, ritual_id: int) -> list[Slot]:
        async with self.rt.db.session() as session:
            ritual = await session.get(Ritual, ritual_id)
        found = setting(ritual) if ritual is not None and not ritual.paused else None
        if ritual is None or found is None:
            return []
        run: Callable[..., Awaitable[object]] = self.post_due
        return [Slot("digest", found.schedule(ritual.tz), run, (ritual_id,))]

    async def catch_up(self) -> int:
        async with self.rt.db.session() as session:
            ritual_ids = list((await self.versions(session)).keys())
        return sum([await self.post_due(ritual_id) for ritual_id in ritual_ids])

    async def post_due(self, ritual_id: int) -> int:
        """Post the digest last due, once; late past the grace period, record it missed."""
        now = self.rt.clock.now()
        async with self.rt.db.session() as session:
            ritual = await session.get(Ritual, ritual_id)
            found = setting(ritual) if ritual is not None else None
            if ritual is None or found is None or ritual.paused:
                return 0
            claimed = await claim(session, ritual, found, DigestRun, now, self.rt.grace)
            if claimed is None:
                return 0
            await post(
                self.rt,
                self._peers(),
                session,
                ritual,
                claimed.due,
                now,
                dedup_key=f"digest:{claimed.run_id}",
            )
        self.rt.sent_later()
        return 1
