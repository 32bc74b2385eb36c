"""When a channel's digest goes out and how: the weekly setting on the channel's digest
ritual, each week's run claimed once (`rituals.weekly`), and the post itself, plain first and
rewritten in place by the model when the workspace has it on (`rituals.llm.summaries`).

A digest covers the week up to its time: from the start of the day six days before (in the
digest's zone) to the minute it goes out, so Friday's at 16:00 covers Saturday to Friday.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import outbound
from rituals.digest import message, written
from rituals.digest.grammar import WORD
from rituals.digest.models import DigestRun
from rituals.kinds import Peers
from rituals.llm import summaries
from rituals.runtime import Runtime
from rituals.schedule import local_date, local_instant
from rituals.weekly import Claimed, Weekly, WeeklyPosts
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


class Digests(WeeklyPosts):
    """The digest kind's weekly post: every kind's week, written for readers outside."""

    kind = KIND
    option = OPTION
    runs = DigestRun

    def __init__(self, runtime: Runtime, peers: Callable[[], Peers]) -> None:
        super().__init__(runtime)
        self._peers = peers

    async def post(
        self, session: AsyncSession, ritual: Ritual, claimed: Claimed, now: datetime
    ) -> None:
        await post(
            self.rt,
            self._peers(),
            session,
            ritual,
            claimed.due,
            now,
            dedup_key=f"digest:{claimed.run_id}",
        )
