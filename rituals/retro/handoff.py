"""An action item handed on as a task, in one step: to whichever kind takes tasks (the
backlog), never named here. The taker's title and reference, as the taker gives them, are
kept in the action's history (``to backlog #12``), so `retro actions` shows what the action
became; the retro's own prefix, not the taker's words, marks it as handed on."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from rituals.context import CommandContext
from rituals.kinds import Handoff, Peers, Taken
from rituals.messages import Button
from rituals.reply import Reply, say
from rituals.retro import actions
from rituals.retro.actions import ActionView
from rituals.retro.channel import existing_ritual
from rituals.retro.models import Retro, RetroAction
from storage.models import Channel, Ritual

ACTION = "retro.task"
TASK = "task"
MAX_BUTTONS = 20  # Slack takes 25 elements in one row of buttons
HANDED = "to "
MAX_NOTE = 16  # RetroActionNote.note


_SOURCE = re.compile(r"retro:([0-9]{1,18}):action:([0-9]{1,18})")


def source(action: RetroAction) -> str:
    return f"retro:{action.retro_id or 0}:action:{action.id}"


async def origin(session: AsyncSession, channel: Channel, said: str) -> str | None:
    """``action A1 of the retro “Sprint 14”``: what a `source` names, if it is one of
    ``channel``'s retros' actions."""
    match = _SOURCE.fullmatch(said)
    if match is None:
        return None
    action = await session.get(RetroAction, int(match[2]))
    if action is None:
        return None
    ritual = await session.get(Ritual, action.ritual_id)
    if ritual is None or ritual.channel_id != channel.id:
        return None
    retro = await session.get(Retro, action.retro_id) if action.retro_id else None
    if retro is None:
        return f"retro action A{action.id}"
    if retro.title:
        return f"action A{action.id} of the retro “{retro.title}”"
    return f"action A{action.id} of the retro of {retro.opened_at.date().isoformat()}"


def buttons(peers: Peers, found: list[ActionView], handed: set[int]) -> list[Button]:
    """A "to <taker>" button per open action not handed on yet, where a kind takes tasks."""
    taker = peers.taker(TASK)
    if taker is None:
        return []
    shown = [a for a in found if a.status == actions.OPEN and a.id not in handed]
    return [
        Button(label=f"A{a.id} to {taker.title}", action_id=ACTION, value=str(a.id))
        for a in shown[:MAX_BUTTONS]
    ]


def note_of(title: str, taken: Taken) -> str:
    """``to backlog #12``; the taker's reference alone when both do not fit the history."""
    whole = f"{HANDED}{title} {taken.ref}".strip()
    return whole if len(whole) <= MAX_NOTE else f"{HANDED}{taken.ref}"[:MAX_NOTE].strip()


def handed_on(steps: dict[int, list[str]]) -> set[int]:
    """Actions whose history has a hand-off in it."""
    return {i for i, said in steps.items() if any(s.startswith(HANDED) for s in said)}


async def hand_on(ctx: CommandContext, peers: Peers, action_id: int) -> Reply:
    """In a channel, one of its retros' actions; in private, one of the person's own."""
    session = ctx.session
    ritual = await existing_ritual(session, ctx.channel.id) if ctx.channel is not None else None
    action = await actions.find(
        session,
        action_id,
        ritual_id=ritual.id if ritual is not None else None,
        owner_id=ctx.member.id,
    )
    if action is None:
        return say(
            f"Sorry — there is no action item A{action_id} here.",
            context="`retro actions` lists the open ones with their ids.",
        )
    owner = await session.get(Ritual, action.ritual_id)
    assert owner is not None
    channel = await session.get_one(Channel, owner.channel_id)
    taker = peers.taker(TASK)
    taken = await peers.take(
        session,
        channel,
        Handoff(
            TASK,
            title=action.text,
            source=source(action),
            label=f"A{action.id}",
            owner_id=action.owner_id,
        ),
        ctx.now,
        ctx.member,
    )
    if taker is None or taken is None:
        return say("Nothing here takes tasks yet.")
    note = note_of(taker.title, taken)
    steps = (await actions.history(session, [action.id])).get(action.id, [])
    if not any(s.startswith(note + " ") for s in steps):
        actions.note(session, action.id, note, ctx.now, member_id=ctx.member.id)
    return say(f"A{action.id}: {taken.text}")
