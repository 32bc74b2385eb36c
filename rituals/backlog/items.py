"""Items: filing one under the channel's next number, finding one by its number, recording
each change in its history, and how an item reads in chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import permissions
from rituals.backlog.channel import Refs
from rituals.backlog.models import BacklogChange, BacklogItem, BacklogSprint
from rituals.context import CommandContext
from rituals.messages import Button, ButtonStyle
from rituals.people import display
from storage.models import Channel, Member, Ritual

STATES = ("open", "doing", "done", "dropped")
DONE_ACTION = "backlog.done"
MINE_ACTION = "backlog.mine"


def phase_of(state: str) -> str:
    """Doing is still open work: the lists of open items show it."""
    return "open" if state in ("open", "doing") else state


def one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class ItemView:
    number: int
    type: str
    priority: int
    state: str
    title: str
    owner: str  # "@Ana", or ""
    sprint: str
    source: str
    link: str
    description: str
    created_at: datetime

    def line(self, *, sprint: bool = True) -> str:
        parts = [f"#{self.number} [p{self.priority} {self.type}] {one_line(self.title, 200)}"]
        if self.owner:
            parts.append(self.owner)
        if self.state != "open":
            parts.append(self.state)
        if self.sprint and sprint:
            parts.append(one_line(self.sprint, 40))
        return " — ".join(parts)


def view(item: BacklogItem, owner: Member | None, sprint: BacklogSprint | None) -> ItemView:
    return ItemView(
        item.number,
        item.type,
        item.priority,
        item.state,
        item.title,
        f"@{display(owner)}" if owner is not None else "",
        sprint.name if sprint is not None else "",
        item.source or "",
        item.link,
        item.description,
        item.created_at,
    )


def viewed(ritual: int) -> Select[tuple[BacklogItem, Member | None, BacklogSprint | None]]:
    """The select of items with their owner and sprint, for ``ritual``'s channel."""
    return (
        select(BacklogItem, Member, BacklogSprint)
        .outerjoin(Member, Member.id == BacklogItem.owner_id)
        .outerjoin(BacklogSprint, BacklogSprint.id == BacklogItem.sprint_id)
        .where(BacklogItem.ritual_id == ritual)
    )


async def view_of(session: AsyncSession, item: BacklogItem) -> ItemView:
    owner = await session.get(Member, item.owner_id) if item.owner_id else None
    sprint = await session.get(BacklogSprint, item.sprint_id) if item.sprint_id else None
    return view(item, owner, sprint)


async def file(
    session: AsyncSession,
    ritual: Ritual,
    *,
    title: str,
    type: str,
    priority: int,
    owner_id: int | None,
    by: int | None,
    now: datetime,
    source: str | None = None,
    origin: str | None = None,
    description: str = "",
    link: str = "",
) -> BacklogItem:
    """A new item under the channel's next number; the ritual row is locked meanwhile, so
    items filed at once take turns for their numbers. ``source`` is the giver's reference,
    ``origin`` how the history says it (the reference itself when not given)."""
    await session.execute(
        select(Ritual.id).where(Ritual.id == ritual.id).with_for_update(of=Ritual)
    )
    last = await session.execute(
        select(func.max(BacklogItem.number)).where(BacklogItem.ritual_id == ritual.id)
    )
    item = BacklogItem(
        ritual_id=ritual.id,
        number=(last.scalar_one() or 0) + 1,
        type=type,
        priority=priority,
        state="open",
        phase="open",
        title=title,
        description=description,
        link=link,
        owner_id=owner_id,
        sprint_id=None,
        source=source,
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    await session.flush()
    came = origin or source
    record(session, item, by, f"filed from {came}" if came else "filed", now)
    return item


def record(
    session: AsyncSession, item: BacklogItem, member_id: int | None, what: str, now: datetime
) -> None:
    item.updated_at = now
    session.add(BacklogChange(item_id=item.id, member_id=member_id, what=what[:400], at=now))


async def find(session: AsyncSession, ritual_id: int, number: int) -> BacklogItem | None:
    """This channel's item ``#number``, locked while it changes; another channel's or
    workspace's items are never found, whatever their numbers."""
    return (
        await session.execute(
            select(BacklogItem)
            .where(BacklogItem.ritual_id == ritual_id, BacklogItem.number == number)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def by_source(session: AsyncSession, ritual_id: int, source: str) -> BacklogItem | None:
    return (
        await session.execute(
            select(BacklogItem).where(
                BacklogItem.ritual_id == ritual_id, BacklogItem.source == source
            )
        )
    ).scalar_one_or_none()


async def may_change(ctx: CommandContext, ritual: Ritual, item: BacklogItem) -> bool:
    """One's own items (filed by or given to them), or any for the backlog's leads and
    workspace admins."""
    if ctx.member.id in (item.created_by, item.owner_id):
        return True
    return await permissions.may_change(ctx, ritual)


async def history(session: AsyncSession, item_ids: list[int]) -> dict[int, list[str]]:
    """Each item's steps as ``2030-01-07 09:00 Ana: state done``."""
    if not item_ids:
        return {}
    rows = await session.execute(
        select(BacklogChange, Member)
        .outerjoin(Member, Member.id == BacklogChange.member_id)
        .where(BacklogChange.item_id.in_(item_ids))
        .order_by(BacklogChange.item_id, BacklogChange.at, BacklogChange.id)
    )
    found: dict[int, list[str]] = {}
    for change, member in rows.tuples():
        who = display(member) if member is not None else "someone"
        when = change.at.strftime("%Y-%m-%d %H:%M")
        found.setdefault(change.item_id, []).append(f"{when} {who}: {change.what}")
    return found


def buttons(refs: Refs, channel: Channel, item: BacklogItem) -> list[Button]:
    """Done on an item still open, and Assign to me while nobody owns it."""
    if item.phase != "open":
        return []
    done = refs(DONE_ACTION, channel, item.number)
    found = [Button(label="Done", action_id=DONE_ACTION, value=done, style=ButtonStyle.primary)]
    if item.owner_id is None:
        mine = refs(MINE_ACTION, channel, item.number)
        found.append(Button(label="Assign to me", action_id=MINE_ACTION, value=mine))
    return found


SECTION_LIMIT = 2900  # under Slack's 3,000 characters for one section's text


def bounded(heading: str, lines: list[str]) -> str:
    """A section's text that stays under the platform's limit, saying what it left out."""
    text = heading
    for shown, line in enumerate(lines):
        if len(text) + len(line) + 40 > SECTION_LIMIT:
            return f"{text}\n… and {len(lines) - shown} more"
        text += f"\n{line}"
    return text
