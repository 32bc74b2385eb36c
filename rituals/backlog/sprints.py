"""Sprints: one open per channel (the database's unique ``open_ritual_id`` holds it), the
review its closing posts, and where the items still open go as the closer chooses.

Who may start and close sprints, and choose for the open items, follows the retro: the
channel's backlog lead and co-leads, whoever started the sprint, and workspace admins. The
lead is whoever first used the channel's backlog (`channel.ritual_for`): filed its first
item, started its first sprint, or handed it its first task from another kind (pressed a
retro's button for an action item, say); a backlog that a hand-off with nobody behind it
made has no lead until someone starts a sprint there.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import outbound, permissions
from rituals.backlog import grammar as g
from rituals.backlog import items
from rituals.backlog.channel import Refs, existing_ritual, refs, ritual_for
from rituals.backlog.models import BacklogItem, BacklogSprint
from rituals.context import CommandContext
from rituals.messages import Button, ButtonStyle, Message, Section, plural
from rituals.people import display
from rituals.reply import Reply, say
from rituals.where import where_of
from storage.models import Channel, Member, Ritual
from storage.queries import insert_ignoring_conflicts

CARRY_ACTION = "backlog.carry"
NEXT, BACKLOG = "next", "backlog"


def key_of(name: str) -> str:
    return " ".join(name.lower().split())


async def named(session: AsyncSession, ritual: Ritual, name: str, now: datetime) -> BacklogSprint:
    """The channel's sprint of that name, planned (not started) when it is new."""
    stmt = insert_ignoring_conflicts(session, BacklogSprint, ["ritual_id", "key"])
    await session.execute(
        stmt.values(ritual_id=ritual.id, name=name, key=key_of(name)[:100], goal="")
    )
    return (
        await session.execute(
            select(BacklogSprint)
            .where(BacklogSprint.ritual_id == ritual.id, BacklogSprint.key == key_of(name)[:100])
            .execution_options(populate_existing=True)
        )
    ).scalar_one()


async def find(session: AsyncSession, ritual_id: int, name: str) -> BacklogSprint | None:
    return (
        await session.execute(
            select(BacklogSprint).where(
                BacklogSprint.ritual_id == ritual_id, BacklogSprint.key == key_of(name)[:100]
            )
        )
    ).scalar_one_or_none()


async def open_sprint(
    session: AsyncSession, ritual_id: int, *, lock: bool = False
) -> BacklogSprint | None:
    query = select(BacklogSprint).where(BacklogSprint.open_ritual_id == ritual_id)
    if lock:
        query = query.with_for_update()
    return (
        await session.execute(query.execution_options(populate_existing=True))
    ).scalar_one_or_none()


async def _refused(
    ctx: CommandContext, ritual: Ritual, doing: str, starter: int | None = None
) -> Reply | None:
    if await permissions.may_change(ctx, ritual, starter):
        return None
    by = await ctx.session.get(Member, starter) if starter else None
    return say(f"Only {await permissions.who_may(ctx, ritual, by)} can {doing}.")


async def start(ctx: CommandContext, channel: Channel, cmd: g.BacklogSprintStart) -> Reply:
    session = ctx.session
    if cmd.until < ctx.now.date():
        return say(
            f"{cmd.until.isoformat()} has passed; a sprint ends on a day still to come.",
            context="Try: backlog sprint start Sprint 15 until YYYY-MM-DD",
        )
    existing = await existing_ritual(session, channel.id)
    if existing is not None:
        refused = await _refused(ctx, existing, "start this channel's sprints")
        if refused is not None:
            return refused
    ritual = existing or await ritual_for(session, channel, ctx.member.tz, ctx.now, ctx.member.id)
    running = await open_sprint(session, ritual.id)
    if running is not None:
        return _already_open(running)
    known = await find(session, ritual.id, cmd.name)
    if known is not None and known.started_at is not None:
        return say(f"{known.name} ran already; give the new sprint a name of its own.")
    sprint = await named(session, ritual, cmd.name, ctx.now)
    try:
        async with session.begin_nested():
            claimed = await session.execute(
                update(BacklogSprint)
                .where(BacklogSprint.id == sprint.id, BacklogSprint.started_at.is_(None))
                .values(
                    open_ritual_id=ritual.id,
                    started_at=ctx.now,
                    started_by=ctx.member.id,
                    until=cmd.until,
                    goal=cmd.goal,
                )
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        running = await open_sprint(session, ritual.id)
        return _already_open(running) if running else say("Another sprint just opened.")
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return say(f"{sprint.name} ran already; give the new sprint a name of its own.")
    await session.refresh(sprint)
    if ritual.lead_member_id is None:
        ritual.lead_member_id = ctx.member.id
        ctx.ritual_changed(ritual)
    carried = await _carry_into(ctx, ritual, sprint)
    planned = await _count(session, sprint.id)
    goal = f" — goal: {sprint.goal}" if sprint.goal else ""
    extra = f", {carried} carried over from the last sprint" if carried else ""
    return Reply(
        Message(
            text=f"{display(ctx.member)} started {sprint.name}, until "
            f"{sprint.until.isoformat() if sprint.until else '?'}{goal}",
            context=f"{plural(planned, 'item')} in it{extra}. "
            f"`backlog sprint ID {items.one_line(sprint.name, 40)}` adds one; "
            "`backlog sprint close` ends it with a review.",
        ),
        public=True,
    )


def _already_open(running: BacklogSprint) -> Reply:
    until = running.until.isoformat() if running.until else "?"
    return say(
        f"{running.name} is open until {until}: one sprint at a time.",
        context="`backlog sprint close` ends it with a review.",
    )


async def _count(session: AsyncSession, sprint_id: int) -> int:
    rows = await session.execute(select(BacklogItem.id).where(BacklogItem.sprint_id == sprint_id))
    return len(rows.all())


async def _carry_into(ctx: CommandContext, ritual: Ritual, sprint: BacklogSprint) -> int:
    """Open items of a closed sprint whose closer chose "next" move into ``sprint``."""
    waiting = await ctx.session.execute(
        select(BacklogSprint).where(
            BacklogSprint.ritual_id == ritual.id,
            BacklogSprint.carry == NEXT,
            BacklogSprint.closed_at.is_not(None),
        )
    )
    moved = 0
    for old in waiting.scalars():
        moved += await _move_open(ctx, old, sprint)
        old.carry = "done"
    return moved


async def _move_open(ctx: CommandContext, old: BacklogSprint, to: BacklogSprint | None) -> int:
    found = await ctx.session.execute(
        select(BacklogItem)
        .where(BacklogItem.sprint_id == old.id, BacklogItem.phase == "open")
        .with_for_update()
    )
    moved = 0
    for item in found.scalars():
        item.sprint_id = to.id if to is not None else None
        what = f"carried from {old.name} to {to.name}" if to else f"back from {old.name}"
        items.record(ctx.session, item, ctx.member.id, what[:400], ctx.now)
        moved += 1
    return moved


async def close(ctx: CommandContext, channel: Channel) -> Reply:
    session = ctx.session
    ritual = await existing_ritual(session, channel.id)
    sprint = await open_sprint(session, ritual.id, lock=True) if ritual is not None else None
    if ritual is None or sprint is None:
        return say(
            "No sprint is open in this channel.",
            context="Try: backlog sprint start Sprint 15 until YYYY-MM-DD",
        )
    refused = await _refused(ctx, ritual, "close this sprint", sprint.started_by)
    if refused is not None:
        return refused
    claimed = await session.execute(
        update(BacklogSprint)
        .where(BacklogSprint.id == sprint.id, BacklogSprint.closed_at.is_(None))
        .values(closed_at=ctx.now, open_ritual_id=None)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return say(f"{sprint.name} is closed already.")
    await session.refresh(sprint)
    found = await _views(session, sprint)
    still_open = sum(1 for v in found if v.state in ("open", "doing"))
    where = await where_of(session, channel.id)
    sprint.review_outbox_id = await outbound.queue(
        session,
        where.post(dedup_key=f"backlog-review:{sprint.id}"),
        review(await refs(ctx, personal=False), channel, sprint, found, choosing=still_open > 0),
        ctx.now,
    )
    if not still_open:
        sprint.carry = BACKLOG
    tail = ""
    if still_open:
        tail = f"; choose where its {plural(still_open, 'open item')} should go"
    return say(f"Closed {sprint.name} — the review is in the channel{tail}.")


def review(
    values: Refs,
    channel: Channel,
    sprint: BacklogSprint,
    found: list[items.ItemView],
    *,
    choosing: bool,
    chosen: str = "",
) -> Message:
    """The sprint review: done, carried over and dropped, then counts by type and by owner."""
    groups = {
        "Done": [v for v in found if v.state == "done"],
        "Carried over (still open)": [v for v in found if v.state in ("open", "doing")],
        "Dropped": [v for v in found if v.state == "dropped"],
    }
    sections = [
        Section(
            text=items.bounded(
                f"*{label}* ({len(group)})", [f"• {v.line(sprint=False)}" for v in group]
            )
        )
        for label, group in groups.items()
        if group
    ]
    if found:
        sections.append(Section(text=_tally("By type", [(v.type, v.state) for v in found])))
        sections.append(
            Section(text=_tally("By owner", [(v.owner or "nobody", v.state) for v in found]))
        )
    else:
        sections.append(Section(text="_No items were in this sprint._"))
    started = sprint.started_at.date().isoformat() if sprint.started_at else "?"
    closed = sprint.closed_at.date().isoformat() if sprint.closed_at else "?"
    goal = f" — goal: {sprint.goal}" if sprint.goal else ""
    buttons = []
    if choosing:
        buttons = [
            Button(
                label="Open items to the next sprint",
                action_id=CARRY_ACTION,
                value=values(CARRY_ACTION, channel, sprint.id, NEXT),
                style=ButtonStyle.primary,
            ),
            Button(
                label="Open items back to the backlog",
                action_id=CARRY_ACTION,
                value=values(CARRY_ACTION, channel, sprint.id, BACKLOG),
            ),
        ]
    done = len(groups["Done"])
    return Message(
        text=f"Sprint review: {sprint.name} ({started} → {closed}){goal} — "
        f"{done} of {plural(len(found), 'item')} done",
        sections=sections,
        buttons=buttons,
        context=chosen or ("Where do the open items go?" if choosing else ""),
    )


def _tally(heading: str, pairs: list[tuple[str, str]]) -> str:
    counts: dict[str, Counter[str]] = {}
    for key, state in pairs:
        counts.setdefault(key, Counter())[state] += 1
    lines = []
    for key in sorted(counts, key=lambda k: (-sum(counts[k].values()), k.lower())):
        parts = [f"{counts[key][s]} {s}" for s in items.STATES if counts[key][s]]
        lines.append(f"• {key}: {', '.join(parts)}")
    return items.bounded(f"*{heading}*", lines)


async def carry(ctx: CommandContext, channel: Channel, sprint_id: int, choice: str) -> Reply:
    """The closer's choice for the open items of a closed sprint: the sprint open now (or
    the next one to start), or back to the backlog."""
    session = ctx.session
    ritual = await existing_ritual(session, channel.id)
    sprint = (
        (
            await session.execute(
                select(BacklogSprint)
                .where(BacklogSprint.id == sprint_id, BacklogSprint.ritual_id == ritual.id)
                .with_for_update()
            )
        ).scalar_one_or_none()
        if ritual is not None
        else None
    )
    if ritual is None or sprint is None or sprint.closed_at is None:
        return say("That button is out of date.", context="`backlog list` shows the items.")
    refused = await _refused(ctx, ritual, "choose for this sprint's open items", sprint.started_by)
    if refused is not None:
        return refused
    if sprint.carry is not None:
        return say(f"The open items of {sprint.name} have been placed already.")
    found = await _views(session, sprint)
    if choice == BACKLOG:
        moved = await _move_open(ctx, sprint, None)
        sprint.carry = BACKLOG
        said = f"{plural(moved, 'open item')} went back to the backlog."
    else:
        running = await open_sprint(session, ritual.id)
        if running is not None:
            moved = await _move_open(ctx, sprint, running)
            sprint.carry = "done"
            said = f"{plural(moved, 'open item')} moved into {running.name}."
        else:
            sprint.carry = NEXT
            said = "The open items move into the next sprint when it starts."
    chose = f"{display(ctx.member)} chose: {said}"
    if sprint.review_outbox_id is not None:
        where = await where_of(session, channel.id)
        message = review(
            await refs(ctx, personal=False), channel, sprint, found, choosing=False, chosen=chose
        )
        await outbound.queue(session, where.update(sprint.review_outbox_id), message, ctx.now)
    return say(said)


async def _views(session: AsyncSession, sprint: BacklogSprint) -> list[items.ItemView]:
    rows = await session.execute(
        items.viewed(sprint.ritual_id)
        .where(BacklogItem.sprint_id == sprint.id)
        .order_by(BacklogItem.priority, BacklogItem.number)
    )
    return [items.view(i, o, s) for i, o, s in rows.tuples()]
