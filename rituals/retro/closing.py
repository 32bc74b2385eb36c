"""Closing a board: the summary, and the action items the team leaves with.

Closing is claimed by a conditional update (still open), so a double press or two people
closing at once produce one summary; the board is locked meanwhile, so no vote or item
lands on it after its summary was written.
"""

from __future__ import annotations

import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import outbound
from rituals.context import CommandContext
from rituals.kinds import Peers
from rituals.llm import summaries
from rituals.llm.model import Model
from rituals.messages import Button, Message, Section, plural
from rituals.reply import Reply, say
from rituals.retro import actions, board, formats, handoff, written
from rituals.retro.actions import ActionView, one_line
from rituals.retro.board import Card
from rituals.retro.channel import open_retro, refusal
from rituals.retro.models import Retro, RetroAction
from rituals.where import where_of
from storage.models import Channel, Ritual

log = structlog.get_logger(__name__)

TOP = 3
ITEM_IN_SUMMARY = 300


async def close(
    ctx: CommandContext, channel: Channel, peers: Peers, model: Model | None = None
) -> Reply:
    session = ctx.session
    retro = await open_retro(session, channel.id, lock=True)
    if retro is None:
        return say("No retro is open in this channel.", context="Start one with `retro start`.")
    ritual = await session.get_one(Ritual, retro.ritual_id)
    refused = await refusal(ctx, retro, ritual, "close this retro")
    if refused is not None:
        return refused
    if not await _claim(session, retro, ctx):
        return say("This retro is closed already.")
    await session.refresh(retro)
    raised = await actions.raise_from(session, retro, ctx.workspace.id, ctx.now)
    carried = await actions.carry(session, retro, raised, ctx.now)
    found = await board.cards(session, retro.id)
    new = await actions.views(session, RetroAction.retro_id == retro.id)
    where = await where_of(session, channel.id)
    await board.refresh(session, retro, ctx.now)
    message = summary_message(retro, found, new, carried, handoff.buttons(peers, new, set()))
    rewrite = await summaries.wanted(session, model or Model(), ctx.workspace.id)
    summary_id = await outbound.queue(
        session,
        where.post(dedup_key=f"retro-summary:{retro.id}"),
        summaries.pending(message) if rewrite else message,
        ctx.now,
    )
    if rewrite and summary_id is not None:
        await summaries.request(
            session,
            written.SUMMARY.name,
            workspace_id=ctx.workspace.id,
            channel_id=channel.id,
            outbox_id=summary_id,
            material=written.material(retro, found, new),
            now=ctx.now,
        )
    log.info("retro closed", retro_id=retro.id, items=len(found), actions=len(new))
    return say(f"Closed — the summary is in the channel, with {plural(len(new), 'action item')}.")


async def _claim(session: AsyncSession, retro: Retro, ctx: CommandContext) -> bool:
    result = await session.execute(
        update(Retro)
        .where(Retro.id == retro.id, Retro.closed_at.is_(None))
        .values(closed_at=ctx.now, open_ritual_id=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def summary_message(
    retro: Retro,
    found: list[Card],
    new: list[ActionView],
    carried: list[ActionView],
    buttons: list[Button] | None = None,
) -> Message:
    title = retro.title or f"Retro of {retro.opened_at.date().isoformat()}"
    votes = sum(c.votes for c in found)
    sections = []
    top = [c for c in found if c.votes > 0][:TOP]
    if top:
        lines = [
            f"{n}. #{c.id} {one_line(c.text, ITEM_IN_SUMMARY)} "
            f"({formats.label(retro.format, c.category)}) — {board.votes_text(c.votes)}"
            for n, c in enumerate(top, 1)
        ]
        sections.append(Section(text=board.bounded("*Top items*", lines)))
    for word, group in board.by_category(retro, found).items():
        if not group:
            continue
        lines = [
            f"• #{c.id} {one_line(c.text, ITEM_IN_SUMMARY)} — {board.votes_text(c.votes)}"
            for c in group
        ]
        sections.append(
            Section(text=board.bounded(f"*{formats.label(retro.format, word)}*", lines))
        )
    action_lines = [f"• {a.line()}" for a in new] or ["_none this time_"]
    sections.append(Section(text=board.bounded("*We leave with*", action_lines)))
    if carried:
        lines = [f"• {a.line()}" for a in carried]
        sections.append(Section(text=board.bounded("*Still open from earlier retros*", lines)))
    return Message(
        text=f"Retro summary: {title} — {plural(len(found), 'item')}, {plural(votes, 'vote')}",
        sections=sections,
        buttons=buttons or [],
        context="`retro actions` lists the open action items; "
        "owners get one reminder before the due date.",
    )
