"""What a board shows and how it changes: one channel message, updated in place, with the
items themselves in its thread.

Every change to a board queues an update of that one message (``update_of`` its outbox
row), in the same unit of work as the change, so the board never shows what did not commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import outbound
from rituals.messages import Button, ButtonStyle, Message, Section, plural
from rituals.retro import actions, formats
from rituals.retro.actions import ActionView, one_line
from rituals.retro.channel import display
from rituals.retro.models import Retro, RetroAction, RetroItem, RetroVote
from rituals.where import Where, where_of
from storage.models import Member

SECTION_LIMIT = 2900  # under Slack's 3000 characters per section, with room for "… and N more"
ITEM_ON_BOARD = 150
CARRIED_BUTTONS = 5


@dataclass(frozen=True)
class Card:
    """An item as boards and summaries show it; ``author`` is None for an anonymous one."""

    id: int
    category: str
    text: str
    votes: int
    author: str | None


async def cards(session: AsyncSession, retro_id: int) -> list[Card]:
    """The board's items, most voted first (ties in the order they came)."""
    votes = (
        select(RetroVote.item_id, func.count().label("votes"))
        .where(RetroVote.retro_id == retro_id)
        .group_by(RetroVote.item_id)
        .subquery()
    )
    rows = await session.execute(
        select(RetroItem, func.coalesce(votes.c.votes, 0), Member)
        .outerjoin(votes, votes.c.item_id == RetroItem.id)
        .outerjoin(Member, Member.id == RetroItem.author_id)
        .where(RetroItem.retro_id == retro_id)
    )
    found = [
        Card(item.id, item.category, item.text, int(count), display(author) if author else None)
        for item, count, author in rows.tuples()
    ]
    return sorted(found, key=lambda c: (-c.votes, c.id))


def bounded(heading: str, lines: list[str], more: str = "") -> str:
    """A section's text that stays under the platform's limit, saying what it left out."""
    text = heading
    for shown, line in enumerate(lines):
        if len(text) + len(line) + 60 > SECTION_LIMIT:
            return f"{text}\n… and {len(lines) - shown} more{more}"
        text += f"\n{line}"
    return text


def by_category(retro: Retro, found: list[Card]) -> dict[str, list[Card]]:
    """Cards under the format's categories in order, then any filed under other words."""
    grouped: dict[str, list[Card]] = {c.word: [] for c in formats.categories(retro.format)}
    for card in found:
        grouped.setdefault(card.category, []).append(card)
    return grouped


def votes_text(count: int) -> str:
    return plural(count, "vote")


def board_message(
    retro: Retro, found: list[Card], carried: list[ActionView], facilitator: str
) -> Message:
    title = retro.title or f"Retro of {retro.opened_at.date().isoformat()}"
    sections = []
    if carried:
        sections.append(
            Section(
                text=bounded(
                    "*From earlier retros — done? still open?*",
                    [f"• {a.line()}" for a in carried],
                )
            )
        )
    showing = retro.closed_at is not None or not retro.hidden or retro.revealed_at is not None
    for word, group in by_category(retro, found).items():
        heading = f"*{formats.label(retro.format, word)}*"
        if not showing:
            sections.append(Section(text=f"{heading}: {plural(len(group), 'item')}"))
            continue
        lines = [
            f"• #{c.id} {one_line(c.text, ITEM_ON_BOARD)} — {votes_text(c.votes)}" for c in group
        ]
        sections.append(
            Section(text=bounded(heading, lines or ["_nothing yet_"], " in the thread"))
        )
    return Message(
        text=f"Retro: {title}" + (" (closed)" if retro.closed_at is not None else ""),
        sections=sections,
        buttons=_board_buttons(retro, carried),
        context=_board_context(retro, showing, facilitator),
    )


def _board_buttons(retro: Retro, carried: list[ActionView]) -> list[Button]:
    if retro.closed_at is not None:
        return []
    buttons = [Button(label="Add an item", action_id="retro.add", form=True)]
    buttons += [
        Button(label=f"A{a.id} done", action_id="retro.done", value=str(a.id))
        for a in carried[:CARRIED_BUTTONS]
    ]
    return buttons


def _board_context(retro: Retro, showing: bool, facilitator: str) -> str:
    if retro.closed_at is not None:
        return "Closed — the summary follows."
    words = formats.words(retro.format)
    parts = [f"Add: `retro add CATEGORY text` ({words})"]
    if retro.allow_anonymous:
        parts[0] += ", `anon` at the end to leave your name off"
    if showing:
        parts.append(
            f"vote: the buttons in the thread or `retro vote ID`, "
            f"{plural(retro.votes_per_person, 'vote')} each"
        )
    else:
        parts.append("items stay hidden until `retro reveal`")
    parts.append(f"facilitator: {facilitator}")
    return " · ".join(parts)


def item_message(retro: Retro, card: Card) -> Message:
    """An item in the board's thread, whole, with its vote button while the retro is open."""
    buttons = (
        [
            Button(
                label="Vote", action_id="retro.vote", value=str(card.id), style=ButtonStyle.primary
            )
        ]
        if retro.closed_at is None
        else []
    )
    return Message(
        text=f"#{card.id} · {formats.label(retro.format, card.category)}",
        sections=[Section(text=card.text)],
        buttons=buttons,
        context=f"from {card.author}" if card.author else "anonymous",
    )


async def render(session: AsyncSession, retro: Retro) -> Message:
    found = await cards(session, retro.id)
    carried = await actions.views(
        session,
        RetroAction.ritual_id == retro.ritual_id,
        RetroAction.status == actions.OPEN,
        or_(RetroAction.retro_id.is_(None), RetroAction.retro_id != retro.id),
    )
    facilitator = (
        display(await session.get(Member, retro.facilitator_id))
        if retro.facilitator_id is not None
        else "the channel's lead"
    )
    return board_message(retro, found, carried, facilitator)


async def refresh(session: AsyncSession, retro: Retro, now: datetime) -> None:
    """Queue the board as it now stands, in place of what the channel shows."""
    if retro.board_outbox_id is None:
        return
    where = await where_of(session, retro.channel_id)
    await outbound.queue(
        session, where.update(retro.board_outbox_id), await render(session, retro), now
    )


async def post(session: AsyncSession, retro: Retro, where: Where, now: datetime) -> None:
    """Post a new board in the channel and keep its outbox row to update and thread under."""
    retro.board_outbox_id = await outbound.queue(
        session, where.post(dedup_key=f"retro-board:{retro.id}"), await render(session, retro), now
    )


async def post_items(
    session: AsyncSession, retro: Retro, where: Where, item_ids: list[int], now: datetime
) -> None:
    """Post items in the board's thread, each once (``thread_outbox_id`` records it)."""
    if not item_ids:
        return
    wanted = set(item_ids)
    for card in sorted(await cards(session, retro.id), key=lambda c: c.id):
        if card.id not in wanted:
            continue
        item = await session.get_one(RetroItem, card.id)
        if item.thread_outbox_id is not None:
            continue
        item.thread_outbox_id = await outbound.queue(
            session,
            where.post(thread_of=retro.board_outbox_id, dedup_key=f"retro-item:{card.id}"),
            item_message(retro, card),
            now,
        )
