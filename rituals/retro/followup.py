"""After the retro: listing action items, marking them done, and the one reminder before
an item's due date, which asks its owner in private whether it is done.

The reminder is claimed with ``claim_unset`` on ``reminded_at``, so however many processes
sweep, each owner is reminded once; ``reminded_at`` is also when they were asked, which
orders this conversation against those of other kinds (a stand-up's questions).
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

import structlog
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import outbound
from rituals.context import CommandContext
from rituals.kinds import Peers, Probe, Waiting
from rituals.messages import Button, ButtonStyle, Message, Section
from rituals.reply import Reply, say
from rituals.retro import actions, board, handoff
from rituals.retro.actions import OPEN, ActionView, one_line
from rituals.retro.channel import KIND, existing_ritual, open_retro
from rituals.retro.models import RetroAction
from rituals.runtime import Runtime
from rituals.schedule import local_instant
from rituals.where import where_of
from storage.models import Member, Ritual
from storage.queries import claim_unset, prepared

log = structlog.get_logger(__name__)

REMIND_AT = time(9, 0)  # the owner's morning, the day before the due date
ASKED_FOR = timedelta(days=2)  # how long a reminder still takes `done` as its answer
DONE_WORDS = frozenset({"done", "yes", "finished", "it's done", "it is done"})
OPEN_WORDS = frozenset({"still open", "open", "not yet", "no", "not done"})
# "done", or "done A3" / "A3 done" when several reminders wait.
_SAID = re.compile(
    r"(?:a?#?(?P<before>[0-9]{1,10}) )?(?P<words>[a-z' ]+?)(?: a?#?(?P<after>[0-9]{1,10}))?"
)


async def listing(ctx: CommandContext, peers: Peers) -> Reply:
    """A channel's open action items with their history (a hand-off shows what the action
    became: ``to backlog #12``); in private, the person's own."""
    session = ctx.session
    if ctx.channel is not None:
        ritual = await existing_ritual(session, ctx.channel.id)
        found = await actions.open_views(session, ritual.id) if ritual is not None else []
        heading = "Open action items of this channel's retros"
    else:
        found = await actions.views(
            session, RetroAction.owner_id == ctx.member.id, RetroAction.status == OPEN
        )
        heading = "Your open action items"
    if not found:
        return say(
            "No open action items.",
            context="They come from the action items of a closed retro (`retro close`).",
        )
    steps = await actions.history(session, [a.id for a in found])
    lines = [f"• {a.line()}\n   {' · '.join(steps.get(a.id, []))}" for a in found]
    return Reply(
        Message(
            text=f"{heading} ({len(found)}):",
            sections=[Section(text=board.bounded("", lines).lstrip("\n"))],
            buttons=handoff.buttons(peers, found, handoff.handed_on(steps)),
            context="`retro done A3` when one is done.",
        )
    )


async def mark(ctx: CommandContext, action_id: int, *, done: bool) -> Reply:
    """Done or still open, by command or button: in a channel, one of its actions; in
    private, one of the person's own."""
    session = ctx.session
    # A place without retros (a button pressed in the owner's own chat) counts as private.
    ritual = await existing_ritual(session, ctx.channel.id) if ctx.channel is not None else None
    action = await actions.find(
        session,
        action_id,
        ritual_id=ritual.id if ritual is not None else None,
        owner_id=ctx.member.id,
    )
    if action is None:
        return _not_found(action_id)
    text = actions.mark(session, action, done, ctx.member, ctx.now)
    await session.flush()
    await _refresh_board(session, action.ritual_id, ctx.now)
    return say(text)


def _not_found(action_id: int) -> Reply:
    return say(
        f"Sorry — there is no action item A{action_id} here.",
        context="`retro actions` lists the open ones with their ids.",
    )


async def _refresh_board(session: AsyncSession, ritual_id: int, now: datetime) -> None:
    """An open board lists the earlier actions still open, so it shows the change."""
    ritual = await session.get_one(Ritual, ritual_id)
    retro = await open_retro(session, ritual.channel_id, lock=True)
    if retro is not None:
        await board.refresh(session, retro, now)


async def mine(session: AsyncSession, member: Member) -> list[ActionView]:
    return await actions.views(
        session, RetroAction.owner_id == member.id, RetroAction.status == OPEN
    )


# --- the reminder and its conversation -------------------------------------------------


def _reminded(prefix: str = "") -> list[Any]:
    """Open actions whose owner (``owner``) was reminded ``since`` and has not answered."""
    return [
        RetroAction.owner_id == bindparam(f"{prefix}owner"),
        RetroAction.status == OPEN,
        RetroAction.reminded_at >= bindparam(f"{prefix}since"),
        RetroAction.answered_at.is_(None),
    ]


def _unanswered() -> Any:
    """Asked for every direct message a person sends: built once."""
    return (
        select(RetroAction)
        .where(*_reminded())
        .order_by(RetroAction.reminded_at, RetroAction.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


PROBE = Probe(
    lambda: select(RetroAction.id).where(*_reminded("retro_")),
    lambda owner, now: {"retro_owner": owner, "retro_since": now - ASKED_FOR},
)


class Reminders:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def sweep(self) -> int:
        """Remind each owner once, from the morning before the due date until it ends."""
        now = self.rt.clock.now()
        today = now.date()
        async with self.rt.db.session() as session:
            rows = await session.execute(
                select(RetroAction, Member, Ritual)
                .join(Member, Member.id == RetroAction.owner_id)
                .join(Ritual, Ritual.id == RetroAction.ritual_id)
                .where(
                    RetroAction.status == OPEN,
                    RetroAction.reminded_at.is_(None),
                    RetroAction.due.is_not(None),
                    RetroAction.due <= today + timedelta(days=2),
                    RetroAction.due >= today - timedelta(days=1),
                )
                .order_by(RetroAction.id)
            )
            sent = 0
            for action, owner, ritual in rows.tuples():
                assert action.due is not None
                starts = local_instant(action.due - timedelta(days=1), REMIND_AT, owner.tz)
                ends = local_instant(action.due + timedelta(days=1), time(0, 0), owner.tz)
                if not starts <= now < ends:
                    continue
                if not await claim_unset(session, RetroAction.reminded_at, action.id, now):
                    continue
                action.reminded_at = now
                actions.note(session, action.id, "reminded", now)
                where = await where_of(session, ritual.channel_id)
                await outbound.queue(
                    session,
                    where.direct(owner.external_id, dedup_key=f"retro-remind:{action.id}"),
                    reminder_message(action, where.channel_name),
                    now,
                )
                sent += 1
        if sent:
            log.info("retro action reminders sent", count=sent)
            self.rt.sent_later()
        return sent

    async def waiting(self, session: AsyncSession, member: Member, now: datetime) -> Waiting | None:
        """The reminders this person has not answered yet, locked while one is; asked when
        the last of them was."""
        found = await self._unanswered(session, member.id, now)
        if not found or found[-1].reminded_at is None:
            return None
        return Waiting(KIND, found[-1].reminded_at, [a.id for a in found])

    async def _unanswered(
        self, session: AsyncSession, member_id: int, now: datetime
    ) -> list[RetroAction]:
        query = prepared(session, "retro unanswered", _unanswered)
        rows = await session.execute(query, {"owner": member_id, "since": now - ASKED_FOR})
        return list(rows.scalars())

    async def answer(
        self, ctx: CommandContext, waiting: Waiting, text: str, is_command: bool
    ) -> Reply | None:
        """``done`` or ``still open`` (naming the item, ``done A3``, when several wait); a
        command typed meanwhile is left to run as one; anything else gets a hint."""
        pending: list[int] = waiting.handle
        said = _SAID.fullmatch(" ".join(text.lower().split()).rstrip(".!"))
        words = said["words"].strip() if said else ""
        if said is None or (words not in DONE_WORDS and words not in OPEN_WORDS):
            if is_command:
                return None
            return say(_question(pending), context="`help` lists the commands.")
        named = said["before"] or said["after"]
        if named is None and len(pending) > 1:
            return say(_question(pending))
        action_id = int(named) if named is not None else pending[0]
        reply = await mark(ctx, action_id, done=words in DONE_WORDS)
        left = [i for i in pending if i != action_id]
        if left and action_id in pending:
            return Reply(
                reply.message.model_copy(update={"sections": [Section(text=_question(left))]})
            )
        return reply

    async def skip(self, ctx: CommandContext, waiting: Waiting, *, stop: bool) -> Reply:
        """``skip``: the item stays open; ``cancel``: the reminder is let go unanswered."""
        first: int = waiting.handle[0]
        if not stop:
            return await mark(ctx, first, done=False)
        action = await actions.find(ctx.session, first, ritual_id=None, owner_id=ctx.member.id)
        if action is not None:
            action.answered_at = ctx.now
        return say(f"Let go of the reminder for A{first}; it stays on the list.")

    async def ask_again(self, ctx: CommandContext, waiting: Waiting) -> Message | None:
        action = await ctx.session.get(RetroAction, waiting.handle[-1])
        if action is None:
            return None
        ritual = await ctx.session.get_one(Ritual, action.ritual_id)
        where = await where_of(ctx.session, ritual.channel_id)
        return reminder_message(action, where.channel_name)


def _question(pending: list[int]) -> str:
    if len(pending) == 1:
        return f"Sorry — is A{pending[0]} done? Reply `done` or `still open`."
    named = " or ".join(f"`done A{i}`" for i in pending)
    return f"Several action items are waiting for you: reply {named} (or `still open A…`)."


def reminder_message(action: RetroAction, channel_name: str) -> Message:
    due = action.due.isoformat() if action.due is not None else "soon"
    place = f"#{channel_name}" if channel_name else "your channel"
    return Message(
        text=f"Reminder from the {place} retro: A{action.id} is due {due}. Is it done?",
        sections=[Section(text=one_line(action.text, 2900))],
        buttons=[
            Button(
                label="Done",
                action_id="retro.done",
                value=str(action.id),
                style=ButtonStyle.primary,
            ),
            Button(label="Still open", action_id="retro.open", value=str(action.id)),
        ],
        context=f"Reply `done` or `still open` (or `done A{action.id}`).",
    )
