"""A channel's backlog as passages `ask` can draw on: an item whose title, description or
history matches, with the steps it went through (filed, doing, done, moved to a sprint)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.backlog.channel import existing_ritual
from rituals.backlog.items import one_line, view, viewed
from rituals.backlog.models import WORDS, BacklogChange, BacklogItem
from rituals.kinds import Recall, Recalled
from rituals.llm.search import bounds, matching, overlapping, within
from rituals.people import display
from storage.models import Channel, Member

RITUAL = "backlog"
STEPS = 6  # the latest steps of an item's history a passage carries


async def recall(
    session: AsyncSession, channel: Channel, query: Recall, limit: int
) -> list[Recalled]:
    if not query.terms:
        return []
    ritual = await existing_ritual(session, channel.id)
    if ritual is None:
        return []
    scores: dict[int, float] = {}
    # Items by their words, worked on at some time during the days asked about.
    condition, rank = matching(session, WORDS, query.terms)
    ranked = rank.label("rank")
    ended = case((BacklogItem.phase == "open", null()), else_=BacklogItem.updated_at)
    rows = await session.execute(
        select(BacklogItem.id, ranked)
        .where(
            BacklogItem.ritual_id == ritual.id,
            condition,
            *overlapping(BacklogItem.created_at, ended, query),
        )
        .order_by(ranked.desc(), BacklogItem.updated_at.desc(), BacklogItem.id)
        .limit(limit)
    )
    for item_id, score in rows.tuples():
        scores[item_id] = float(score)
    # Items by a step of their history taken during those days ("dropped", a sprint's name).
    condition, rank = matching(session, BacklogChange.what, query.terms)
    best = func.max(rank).label("rank")
    rows = await session.execute(
        select(BacklogChange.item_id, best)
        .join(BacklogItem, BacklogItem.id == BacklogChange.item_id)
        .where(BacklogItem.ritual_id == ritual.id, condition, *within(BacklogChange.at, query))
        .group_by(BacklogChange.item_id)
        .order_by(best.desc(), BacklogChange.item_id.desc())
        .limit(limit)
    )
    for item_id, score in rows.tuples():
        scores[item_id] = scores.get(item_id, 0.0) + float(score)
    if not scores:
        return []
    steps = await _steps(session, list(scores))
    rows_found = list(
        (await session.execute(viewed(ritual.id).where(BacklogItem.id.in_(list(scores))))).tuples()
    )
    filers = {item.created_by for item, _o, _s in rows_found if item.created_by}
    names = {
        m.id: display(m)
        for m in (await session.execute(select(Member).where(Member.id.in_(filers)))).scalars()
    }
    found = []
    for item, owner, sprint in rows_found:
        shown = view(item, owner, sprint)
        history = steps.get(item.id, [])
        text = f"Backlog item {shown.line()}"
        if history:
            text += " · " + "; ".join(line for _day, line in history[-STEPS:])
        if item.description:
            text += f" · {one_line(item.description, 240)}"
        day = _day(history, query) or item.created_at.date()
        who = names.get(item.created_by) if item.created_by else None
        found.append(Recalled(RITUAL, day, text, who, scores[item.id]))
    found.sort(key=lambda r: (-r.rank, -r.day.toordinal()))
    return found[:limit]


async def _steps(session: AsyncSession, item_ids: list[int]) -> dict[int, list[tuple[date, str]]]:
    """Each item's history, oldest first, as (day, ``Mon 23 Nov Ana: state done``)."""
    rows = await session.execute(
        select(BacklogChange, Member)
        .outerjoin(Member, Member.id == BacklogChange.member_id)
        .where(BacklogChange.item_id.in_(item_ids))
        .order_by(BacklogChange.item_id, BacklogChange.at, BacklogChange.id)
    )
    found: dict[int, list[tuple[date, str]]] = {}
    for change, member in rows.tuples():
        who = display(member) if member is not None else "someone"
        line = f"{change.at:%a %d %b} {who}: {change.what}"
        found.setdefault(change.item_id, []).append((change.at.date(), line))
    return found


def _day(history: list[tuple[date, str]], query: Recall) -> date | None:
    """The last day the item was worked on within the days asked about."""
    start, end = bounds(query)
    days = [
        day
        for day, _line in history
        if (start is None or day >= start.date()) and (end is None or day < end.date())
    ]
    return max(days) if days else None
