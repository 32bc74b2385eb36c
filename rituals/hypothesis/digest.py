"""The weekly digest: each open hypothesis of a channel with its status, its last values
against the target, and the days to its deadline, overdue and stale ones first.

It reads one row per hypothesis (the row keeps its recent values), so its cost does not
grow with the length of any series. The day and time are per channel; each week's digest
is claimed by a unique (ritual, date) row (`rituals.weekly`), so it is posted once across
processes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import outbound, permissions
from rituals.context import CommandContext
from rituals.hypothesis import store, views
from rituals.hypothesis.grammar import HypothesisDigest
from rituals.hypothesis.models import Hypothesis, HypothesisDigestRun
from rituals.messages import Message, Section
from rituals.reply import Reply, say
from rituals.schedule import local_date
from rituals.weekly import DAY_NAMES, Claimed, Weekly, WeeklyPosts, set_on
from rituals.where import where_of
from storage.models import Channel, Ritual

STALE_AFTER = timedelta(days=8)
SECTION_CHARS = 2800
MAX_LINES = 100  # overdue and stale first; a chat message holds no more
OPTION = "digest"  # where the day and time are kept on the ritual row


async def command(ctx: CommandContext, channel: Channel, command: HypothesisDigest) -> Reply:
    """``digest`` shows it now (to the person); ``digest DAY HH:MM`` or ``off`` sets it."""
    session = ctx.session
    ritual = await store.existing_ritual(session, channel.id)
    if command.weekday is None and not command.off:
        if ritual is None:
            return say("No hypotheses here yet.", context="`hypothesis add …` proposes one.")
        return Reply(await render(session, ritual, ctx.now))
    if ritual is None:
        ritual = await store.ritual_for(session, channel, ctx.member.tz, ctx.now)
    if not await permissions.may_change(ctx, ritual):
        return say(f"Only {await permissions.who_may(ctx, ritual)} can set the digest.")
    if command.off:
        set_on(ritual, OPTION, None)
        ctx.ritual_changed(ritual)
        return say("The weekly hypothesis digest is off.", public=True)
    assert command.at is not None and command.weekday is not None
    set_on(ritual, OPTION, Weekly(command.weekday, command.at))
    ritual.tz = ctx.member.tz
    if ritual.lead_member_id is None:
        ritual.lead_member_id = ctx.member.id
    ctx.ritual_changed(ritual)
    return say(
        f"The hypothesis digest comes every {DAY_NAMES[command.weekday - 1]} at "
        f"{command.at:%H:%M} ({ritual.tz}).",
        public=True,
        context="`hypothesis digest off` stops it; `hypothesis digest` shows it now.",
    )


def _order(h: Hypothesis, today: date, now: datetime) -> tuple[int, int]:
    overdue = h.deadline is not None and h.deadline < today
    return (0 if overdue else 1 if stale(h, now) else 2, h.number)


def stale(h: Hypothesis, now: datetime) -> bool:
    return h.missed_at is not None or (h.last_point_at or h.created_at) < now - STALE_AFTER


async def render(session: AsyncSession, ritual: Ritual, now: datetime) -> Message:
    rows = await session.execute(
        select(Hypothesis).where(
            Hypothesis.ritual_id == ritual.id, Hypothesis.state.in_(store.OPEN_STATES)
        )
    )
    today = local_date(now, ritual.tz)
    ranked = sorted((_order(h, today, now), h) for h in rows.scalars().all())
    if not ranked:
        return Message(
            text="Hypothesis digest: nothing open.",
            context="`hypothesis add …` proposes the next bet.",
        )
    flags = ("⚠ overdue · ", "⏳ stale · ", "")
    lines = [f"• {flags[rank]}{views.line(h, today)}" for (rank, _), h in ranked[:MAX_LINES]]
    if len(ranked) > MAX_LINES:
        lines.append(f"…and {len(ranked) - MAX_LINES} more: `hypothesis list`.")
    overdue = sum(1 for (rank, _), _h in ranked if rank == 0)
    stale_count = sum(1 for (rank, _), _h in ranked if rank == 1)
    return Message(
        text=f"Hypothesis digest: {len(ranked)} open, {overdue} overdue, {stale_count} stale",
        sections=[Section(text=chunk) for chunk in _chunks(lines)],
        context="`hypothesis show ID` for one's series and history.",
    )


def _chunks(lines: list[str]) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = line if len(line) <= SECTION_CHARS else line[: SECTION_CHARS - 1] + "…"
        if current and size + len(line) + 1 > SECTION_CHARS:
            chunks.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        chunks.append("\n".join(current))
    return chunks


class Digests(WeeklyPosts):
    """The hypothesis kind's weekly digest of its open bets."""

    kind = store.KIND
    option = OPTION
    runs = HypothesisDigestRun

    async def post(
        self, session: AsyncSession, ritual: Ritual, claimed: Claimed, now: datetime
    ) -> None:
        where = await where_of(session, ritual.channel_id)
        await outbound.queue(
            session,
            where.post(dedup_key=f"hypothesis-digest:{claimed.run_id}"),
            await render(session, ritual, now),
            now,
        )
