"""Action items: raised when a retro closes, carried into the next one until done.

An item's text names its owner (``@ana``) and due date (``by 2030-01-10``); both are read
once, when the retro closes, and kept with the action so later edits to names do not move it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import people
from rituals.commands import tokens as t
from rituals.retro import formats
from rituals.retro.models import Retro, RetroAction, RetroActionNote, RetroItem
from storage.models import Member

_DUE = re.compile(r"\bby ([0-9]{4}-[0-9]{2}-[0-9]{2})\b", re.IGNORECASE)
_MENTION = re.compile(r"<@[A-Za-z0-9]{1,40}(?:\|[^<>]{0,80})?>|(?<![\w@])@[\w.\-]{1,80}")

OPEN = "open"
DONE = "done"


@dataclass(frozen=True)
class Parsed:
    owner: str  # as written, without the @; "" when none
    due: date | None


def parse(text: str) -> Parsed:
    """The first ``@name`` and the first real ``by YYYY-MM-DD`` in an action item's text."""
    owner = ""
    if mention := _MENTION.search(text):
        owner = t.mention(mention[0].rstrip(".-")) or ""
    due = None
    for match in _DUE.finditer(text):
        try:
            due = t.iso_date(match[1])
            break
        except t.Reject:
            continue
    return Parsed(owner, due)


@dataclass(frozen=True)
class ActionView:
    id: int
    text: str
    owner: str  # "@Ana", or "" when nobody was named
    due: date | None
    status: str

    def line(self) -> str:
        parts = [f"A{self.id} {one_line(self.text, 200)}"]
        if self.owner:
            parts.append(self.owner)
        if self.due is not None:
            parts.append(f"due {self.due.isoformat()}")
        if self.status == DONE:
            parts.append("done")
        return " — ".join(parts)


def one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _view(action: RetroAction, owner: Member | None) -> ActionView:
    name = owner.name or owner.external_id if owner is not None else action.owner
    return ActionView(action.id, action.text, f"@{name}" if name else "", action.due, action.status)


async def views(session: AsyncSession, *conditions: object) -> list[ActionView]:
    rows = await session.execute(
        select(RetroAction, Member)
        .outerjoin(Member, Member.id == RetroAction.owner_id)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(RetroAction.due.is_(None), RetroAction.due, RetroAction.id)
    )
    return [_view(action, owner) for action, owner in rows.tuples()]


async def open_views(session: AsyncSession, ritual_id: int) -> list[ActionView]:
    return await views(session, RetroAction.ritual_id == ritual_id, RetroAction.status == OPEN)


async def raise_from(
    session: AsyncSession, retro: Retro, workspace_id: int, now: datetime
) -> list[int]:
    """Turn the closing retro's action-category items into action items; their ids."""
    action_words = [c.word for c in formats.categories(retro.format) if c.actions]
    items = await session.execute(
        select(RetroItem)
        .where(RetroItem.retro_id == retro.id, RetroItem.category.in_(action_words))
        .order_by(RetroItem.id)
    )
    found = [(item, parse(item.text)) for item in items.scalars()]
    # Each owner is looked up once, and the actions and their notes are written in one
    # batch each, so closing costs the same few statements however many items it holds.
    if not found:
        return []
    owners = await people.find(session, workspace_id, {parsed.owner for _, parsed in found})
    rows = [
        {
            "ritual_id": retro.ritual_id,
            "retro_id": retro.id,
            "item_id": item.id,
            "text": item.text,
            "owner": parsed.owner[:128],
            "owner_id": owner.id if (owner := owners[parsed.owner]) is not None else None,
            "due": parsed.due,
            "status": OPEN,
            "created_at": now,
        }
        for item, parsed in found
    ]
    # Returned in any order (asking for the parameters' order costs a statement per row on
    # SQLite): each item raises one action, so its item id says which is which.
    returning = insert(RetroAction).returning(RetroAction.item_id, RetroAction.id)
    by_item = dict((await session.execute(returning, rows)).tuples().all())
    ids = [by_item[item.id] for item, _ in found]
    notes = [
        {"action_id": i, "retro_id": retro.id, "member_id": None, "note": "raised", "at": now}
        for i in ids
    ]
    await session.execute(insert(RetroActionNote), notes)
    return ids


async def carry(
    session: AsyncSession, retro: Retro, raised: list[int], now: datetime
) -> list[ActionView]:
    """Earlier action items still open as ``retro`` closes: each gets "still open" in its
    history, as the team saw it open at this retro."""
    carried = await views(
        session,
        RetroAction.ritual_id == retro.ritual_id,
        RetroAction.status == OPEN,
        RetroAction.id.notin_(raised) if raised else RetroAction.id.isnot(None),
    )
    for view in carried:
        note(session, view.id, "still open", now, retro_id=retro.id)
    return carried


def note(
    session: AsyncSession,
    action_id: int,
    what: str,
    now: datetime,
    *,
    retro_id: int | None = None,
    member_id: int | None = None,
) -> None:
    session.add(
        RetroActionNote(
            action_id=action_id, retro_id=retro_id, member_id=member_id, note=what, at=now
        )
    )


async def find(
    session: AsyncSession, action_id: int, *, ritual_id: int | None, owner_id: int | None
) -> RetroAction | None:
    """An action of this channel's retros (or, from a private chat, one of the person's
    own): any other id, another channel's or workspace's included, is not found."""
    query = select(RetroAction).where(RetroAction.id == action_id).with_for_update(key_share=True)
    if ritual_id is not None:
        query = query.where(RetroAction.ritual_id == ritual_id)
    else:
        query = query.where(RetroAction.owner_id == owner_id)
    return (
        await session.execute(query.execution_options(populate_existing=True))
    ).scalar_one_or_none()


def mark(
    session: AsyncSession, action: RetroAction, done: bool, member: Member, now: datetime
) -> str:
    """Record done or still open; the reply's text."""
    if action.status == DONE:
        return f"A{action.id} was already done."
    if action.reminded_at is not None and action.answered_at is None:
        action.answered_at = now
    if not done:
        note(session, action.id, "still open", now, member_id=member.id)
        return f"Noted: A{action.id} stays open; it heads the next retro."
    action.status = DONE
    action.done_at = now
    note(session, action.id, "done", now, member_id=member.id)
    return f"A{action.id} is done — nice work."


async def history(session: AsyncSession, action_ids: list[int]) -> dict[int, list[str]]:
    """Each action's steps as short phrases: ``raised at Sprint 14 on 2030-01-03``."""
    if not action_ids:
        return {}
    rows = await session.execute(
        select(RetroActionNote, Retro.title, Member)
        .outerjoin(Retro, Retro.id == RetroActionNote.retro_id)
        .outerjoin(Member, Member.id == RetroActionNote.member_id)
        .where(RetroActionNote.action_id.in_(action_ids))
        .order_by(RetroActionNote.at, RetroActionNote.id)
    )
    found: dict[int, list[str]] = {}
    for step, title, member in rows.tuples():
        phrase = step.note
        if title:
            phrase += f" at {one_line(title, 60)}"
        if member is not None:
            phrase += f" by {member.name or member.external_id}"
        found.setdefault(step.action_id, []).append(f"{phrase} {step.at.date().isoformat()}")
    return found
