"""Lists and exports: the filters as conditions, pages by keyset, and the CSV.

A page is found from the key (priority, number) of the last item shown (Next) or the first
(Previous), never by skipping rows, so the hundredth page costs what the first does; every
filter is the leading part of an index (see `models`), so each page is one range scan.
Only a typed ``page N`` finds where its page starts by counting keys along that index.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import people
from rituals.backlog import grammar as g
from rituals.backlog import items, sprints
from rituals.backlog.channel import Refs, existing_ritual, refs
from rituals.backlog.items import ItemView
from rituals.backlog.models import BacklogItem, BacklogSprint
from rituals.commands import tokens as t
from rituals.context import CommandContext
from rituals.messages import Attachment, Button, Message, Section, plural
from rituals.reply import Reply, say
from storage.models import Channel, Member, Ritual

PAGE = 10
PAGE_ACTION = "backlog.page"
NEXT, PREVIOUS = "next", "prev"
HISTORY_BATCH = 500
EXPORT_COLUMNS = (
    "id", "type", "priority", "state", "title", "owner", "sprint", "source", "link",
    "description", "created_at", "history",
)  # fmt: skip

Key = tuple[int, int]


async def conditions(
    ctx: CommandContext, ritual: Ritual, filters: g.Filters, *, default_open: bool
) -> list[ColumnElement[bool]] | Reply:
    """The filters as SQL conditions on the channel's items; a reply when a person or
    sprint named is unknown."""
    found: list[ColumnElement[bool]] = []
    phase = filters.phase or ("open" if default_open else None)
    if phase is not None:
        found.append(BacklogItem.phase == phase)
    if filters.mine:
        found.append(BacklogItem.owner_id == ctx.member.id)
    if filters.owner is not None:
        member = (await people.find(ctx.session, ctx.workspace.id, {filters.owner}))[filters.owner]
        if member is None:
            return say(
                f"I don't know who @{filters.owner} is here.",
                context="They can be named once they have used the bot in this workspace.",
            )
        found.append(BacklogItem.owner_id == member.id)
    if filters.type is not None:
        found.append(BacklogItem.type == filters.type)
    if filters.priority is not None:
        found.append(BacklogItem.priority == filters.priority)
    if filters.sprint is not None:
        sprint = await sprints.find(ctx.session, ritual.id, filters.sprint)
        if sprint is None:
            return say(
                f"This channel has no sprint named {t.quote(filters.sprint)}.",
                context="`backlog sprint start NAME until YYYY-MM-DD` starts one.",
            )
        found.append(BacklogItem.sprint_id == sprint.id)
    return found


_KEY = tuple_(BacklogItem.priority, BacklogItem.number)
_ORDER = (BacklogItem.priority, BacklogItem.number)
_REVERSED = (BacklogItem.priority.desc(), BacklogItem.number.desc())


@dataclass(frozen=True)
class Page:
    views: list[ItemView]
    first: Key | None
    last: Key | None
    more_before: bool
    more_after: bool


def page_query(
    ritual_id: int,
    where: list[ColumnElement[bool]],
    *,
    after: Key | None = None,
    before: Key | None = None,
    start: Key | None = None,
    size: int = PAGE,
    fixed_priority: bool = False,
) -> Select[tuple[BacklogItem, Member | None, BacklogSprint | None]]:
    """The select of one page, one more row than shown to tell whether more follow.

    With the priority filtered (``fixed_priority``) the key is the number alone: SQLite
    then seeks the index to it instead of reading the filtered rows up to it."""
    query = items.viewed(ritual_id).where(*where)
    key: ColumnElement[Any] = BacklogItem.number if fixed_priority else _KEY

    def at(found: Key) -> ColumnElement[Any]:
        return literal(found[1]) if fixed_priority else tuple_(*found)

    if before is not None:
        query = query.where(at(before) > key).order_by(*_REVERSED)
    elif after is not None:
        query = query.where(at(after) < key).order_by(*_ORDER)
    elif start is not None:
        query = query.where(at(start) <= key).order_by(*_ORDER)
    else:
        query = query.order_by(*_ORDER)
    return query.limit(size + 1)


async def page(
    session: AsyncSession,
    ritual_id: int,
    where: list[ColumnElement[bool]],
    *,
    after: Key | None = None,
    before: Key | None = None,
    start: Key | None = None,
    size: int = PAGE,
    fixed_priority: bool = False,
) -> Page:
    """Up to ``size`` items after ``after``, before ``before``, or from ``start`` on."""
    query = page_query(
        ritual_id,
        where,
        after=after,
        before=before,
        start=start,
        size=size,
        fixed_priority=fixed_priority,
    )
    rows = list((await session.execute(query)).tuples())
    extra = len(rows) > size
    rows = rows[:size]
    if before is not None:
        rows.reverse()
    views = [items.view(i, o, s) for i, o, s in rows]
    first = (rows[0][0].priority, rows[0][0].number) if rows else None
    last = (rows[-1][0].priority, rows[-1][0].number) if rows else None
    if before is not None:
        return Page(views, first, last, more_before=extra, more_after=True)
    return Page(views, first, last, more_before=(after or start) is not None, more_after=extra)


async def start_of(
    session: AsyncSession,
    ritual_id: int,
    where: list[ColumnElement[bool]],
    number: int,
    size: int = PAGE,
) -> Key | None:
    """Where typed page ``number`` starts: the key found by counting along the index."""
    found = await session.execute(
        select(BacklogItem.priority, BacklogItem.number)
        .where(BacklogItem.ritual_id == ritual_id, *where)
        .order_by(*_ORDER)
        .offset((number - 1) * size)
        .limit(1)
    )
    row = found.first()
    return (row[0], row[1]) if row is not None else None


async def listing(
    ctx: CommandContext,
    channel: Channel,
    filters: g.Filters,
    number: int = 1,
    *,
    after: Key | None = None,
    before: Key | None = None,
) -> Reply:
    ritual = await existing_ritual(ctx.session, channel.id)
    if ritual is None:
        return say("This channel's backlog is empty.", context="`backlog add TITLE` files an item.")
    where = await conditions(ctx, ritual, filters, default_open=True)
    if isinstance(where, Reply):
        return where
    start = None
    if number > 1 and after is None and before is None:
        start = await start_of(ctx.session, ritual.id, where, number)
        if start is None:
            count = await ctx.session.scalar(
                select(func.count(BacklogItem.id)).where(BacklogItem.ritual_id == ritual.id, *where)
            )
            pages = max(1, -(-(count or 0) // PAGE))
            return say(f"There is no page {number}: that list has {plural(pages, 'page')}.")
    found = await page(
        ctx.session,
        ritual.id,
        where,
        after=after,
        before=before,
        start=start,
        fixed_priority=filters.priority is not None,
    )
    return Reply(render(await refs(ctx), channel, filters, number, found))


def render(values: Refs, channel: Channel, filters: g.Filters, number: int, found: Page) -> Message:
    shown = filters.words() or "open"
    if not found.views:
        return Message(
            text=f"No {shown} items." if number == 1 else f"No more {shown} items.",
            context="`backlog add TITLE` files one; `backlog list done` shows what is done.",
        )
    lines = [f"• {v.line()}" for v in found.views]
    first = (number - 1) * PAGE + 1
    buttons = []
    if found.more_before and number > 1 and found.first is not None:
        value = values(PAGE_ACTION, channel, number - 1, PREVIOUS, *found.first, filters.words())
        buttons.append(Button(label="Previous", action_id=PAGE_ACTION, value=value))
    if found.more_after and found.last is not None:
        value = values(PAGE_ACTION, channel, number + 1, NEXT, *found.last, filters.words())
        buttons.append(Button(label="Next", action_id=PAGE_ACTION, value=value))
    more = f" · `backlog list {filters.words()} page {number + 1}`".replace("  ", " ")
    return Message(
        text=f"Backlog, {shown} — items {first}–{first + len(lines) - 1} (page {number}):",
        sections=[Section(text=items.bounded("", lines).lstrip("\n"))],
        buttons=buttons,
        context="By priority, then age" + (more if found.more_after else ""),
    )


def read_page_value(parts: list[str]) -> tuple[int, str, Key, g.Filters] | None:
    """A Next or Previous button's page number, direction, key and filters."""
    number, direction, priority, item, words = parts
    if direction not in (NEXT, PREVIOUS):
        return None
    if not all(p.isascii() and p.isdigit() and len(p) <= 9 for p in (number, priority, item)):
        return None
    try:
        filters = g.filters(words.split(), words)
    except t.Reject:
        return None
    return int(number), direction, (int(priority), int(item)), filters


async def export(ctx: CommandContext, channel: Channel, filters: g.Filters) -> Reply:
    """Every matching item with its history, as a CSV file."""
    ritual = await existing_ritual(ctx.session, channel.id)
    if ritual is None:
        return say("This channel's backlog is empty.", context="`backlog add TITLE` files an item.")
    where = await conditions(ctx, ritual, filters, default_open=False)
    if isinstance(where, Reply):
        return where
    rows = await ctx.session.execute(items.viewed(ritual.id).where(*where).order_by(*_ORDER))
    found = [(i.id, items.view(i, o, s)) for i, o, s in rows.tuples()]
    steps: dict[int, list[str]] = {}
    for at in range(0, len(found), HISTORY_BATCH):
        ids = [i for i, _ in found[at : at + HISTORY_BATCH]]
        steps.update(await items.history(ctx.session, ids))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for item_id, v in found:
        writer.writerow(
            (
                v.number,
                v.type,
                f"p{v.priority}",
                v.state,
                _neutralize(v.title),
                _neutralize(v.owner),
                _neutralize(v.sprint),
                _neutralize(v.source),
                _neutralize(v.link),
                _neutralize(v.description),
                v.created_at.isoformat(),
                _neutralize(" | ".join(steps.get(item_id, []))),
            )
        )
    name = channel.name or channel.external_id
    shown = filters.words() or "all"
    return Reply(
        Message(
            text=f"{plural(len(found), 'item')} of the backlog ({shown}), with their history.",
            attachment=Attachment(
                filename=f"backlog-{name}.csv", content=buffer.getvalue(), mime_type="text/csv"
            ),
        )
    )


def _neutralize(value: str) -> str:
    """Keep spreadsheet apps from running text that starts like a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
