"""A channel's backlog over a week, for the weekly digest: items done, added, dropped and
moved (started, reopened, into or out of a sprint), and where the running sprint stands."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.backlog.channel import KIND, existing_ritual
from rituals.backlog.items import one_line, view
from rituals.backlog.models import BacklogChange, BacklogItem
from rituals.backlog.sprints import open_sprint
from rituals.kinds import Week
from storage.models import Channel, Member

SHOWN = 6
# History steps that move an item without finishing it, as a reader outside the team says them.
MOVES = {"state doing": "started", "state open": "reopened"}
MOVED_BY = ("sprint ", "back to the backlog", "carried ", "back from ")


async def week(
    session: AsyncSession, channel: Channel, since: datetime, until: datetime
) -> list[Week]:
    ritual = await existing_ritual(session, channel.id)
    if ritual is None:
        return []
    rows = await session.execute(
        select(BacklogChange.what, BacklogItem, Member)
        .join(BacklogItem, BacklogItem.id == BacklogChange.item_id)
        .outerjoin(Member, Member.id == BacklogItem.owner_id)
        .where(
            BacklogItem.ritual_id == ritual.id,
            BacklogChange.at >= since,
            BacklogChange.at < until,
        )
        .order_by(BacklogChange.at, BacklogChange.id)
    )
    done: dict[int, str] = {}
    dropped: dict[int, str] = {}
    added: dict[int, str] = {}
    moved: dict[int, str] = {}
    for what, item, owner in rows.tuples():
        line = view(item, owner, None).line(sprint=False)
        if what.startswith("filed"):
            added[item.id] = line
        elif what == "state done":
            done[item.id] = line
            moved.pop(item.id, None)
        elif what == "state dropped":
            dropped[item.id] = line
            moved.pop(item.id, None)
        elif what.startswith("state "):  # reopened: whatever it last became counts
            done.pop(item.id, None)
            dropped.pop(item.id, None)
        if (what in MOVES or what.startswith(MOVED_BY)) and item.id not in done:
            how = MOVES.get(what) or one_line(what.replace("sprint ", "into sprint ", 1), 80)
            moved[item.id] = f"#{item.number} {one_line(item.title, 100)} — {how}"
    lines = [f"{len(done)} done, {len(added)} added, {len(dropped)} dropped, {len(moved)} moved"]
    lines += [f"Done: {line}" for line in list(done.values())[:SHOWN]]
    # An item added and finished within the week reads once, as done.
    fresh = [line for item_id, line in added.items() if item_id not in done]
    lines += [f"Added: {line}" for line in fresh[:SHOWN]]
    lines += [f"Dropped: {line}" for line in list(dropped.values())[:SHOWN]]
    lines += [f"Moved: {line}" for line in list(moved.values())[:SHOWN]]
    sprint = await open_sprint(session, ritual.id)
    if sprint is not None:
        tally = await session.execute(
            select(BacklogItem.state, func.count())
            .where(BacklogItem.sprint_id == sprint.id)
            .group_by(BacklogItem.state)
        )
        states = dict(tally.tuples().all())
        total = sum(states.values()) - states.get("dropped", 0)
        until_day = f" until {sprint.until.isoformat()}" if sprint.until else ""
        goal = f" — goal: {one_line(sprint.goal, 160)}" if sprint.goal else ""
        lines.append(
            f"Running sprint “{sprint.name}”{until_day}: {states.get('done', 0)} of {total} "
            f"items done, {states.get('doing', 0)} in progress{goal}"
        )
    else:
        lines.append("No sprint is running.")
    counts = {"done": len(done), "added": len(added), "dropped": len(dropped), "moved": len(moved)}
    return [Week(KIND, "Backlog", tuple(lines), counts)]
