"""The sprint backlog: items with ML types and priorities filed where the team talks, lists
that page by keyset however many items a channel holds, sprints with a review, and tasks
other kinds hand over (a retro's action items)."""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import permissions
from rituals.backlog import changes, items, listing, recall, sprints, week
from rituals.backlog import grammar as g
from rituals.backlog.channel import channel_of, existing_ritual, ritual_for
from rituals.backlog.forms import ADD, add_form, submit_add
from rituals.backlog.models import BacklogItem
from rituals.commands import Command
from rituals.commands.tokens import MAX_ID
from rituals.context import CommandContext
from rituals.kinds import Handoff, Kind, Recall, Recalled, Taken, Week
from rituals.messages import Form, Message, Section
from rituals.reply import Reply, say
from storage.models import Channel, Member, Ritual

IN_A_CHANNEL = say(
    "Backlog commands work in the channel whose backlog they are for.",
    context="Type `backlog` there for the commands.",
)
OUT_OF_DATE = say("That button is out of date.", context="`backlog list` shows the items.")


class BacklogKind(Kind):
    word = g.WORD
    title = "backlog"
    verbs = g.VERBS
    help = (
        "backlog add [TYPE] [p0-p3] TITLE [@owner] (alone, a form on Slack and Teams) · "
        f"TYPE: {', '.join(g.TYPES)} · "
        "backlog list [mine|open|done|TYPE|pN|@user|sprint NAME]… [page N] · "
        "backlog done|doing|drop|reopen ID · backlog assign ID @user · backlog prio ID pN · "
        "backlog sprint ID NAME|none · backlog edit ID TITLE · backlog show ID · "
        "backlog sprint start NAME until YYYY-MM-DD [GOAL] · backlog sprint close · "
        "backlog export [filters] · backlog lead @user · backlog coleads @a @b | none"
    )
    intro = "a backlog of data, experiment, model and eval work, with sprints and reviews"
    start_hint = "`backlog add` files an item"
    forms = frozenset({ADD})
    channel_forms = frozenset({ADD})
    bare_forms = MappingProxyType({"add": ADD})
    takes = frozenset({"task"})

    # --- commands, forms and buttons --------------------------------------------------

    async def handle(self, ctx: CommandContext, command: Command) -> Reply:
        if ctx.channel is None:
            return IN_A_CHANNEL
        channel = ctx.channel
        match command:
            case g.BacklogAdd(title, kind, priority, owner):
                return await changes.add(
                    ctx, channel, title, type=kind, priority=priority, owner=owner
                )
            case g.BacklogMove(item_id):
                return await changes.move(ctx, channel, item_id, command.state)
            case g.BacklogAssign(item_id, owner):
                return await changes.assign(ctx, channel, item_id, owner)
            case g.BacklogPrio(item_id, priority):
                return await changes.prioritize(ctx, channel, item_id, priority)
            case g.BacklogSprint(item_id, name):
                return await changes.plan(ctx, channel, item_id, name)
            case g.BacklogEdit(item_id, title):
                return await changes.edit(ctx, channel, item_id, title)
            case g.BacklogShow(item_id):
                return await changes.show(ctx, channel, item_id, self.peers)
            case g.BacklogList(filters, page):
                return await listing.listing(ctx, channel, filters, page)
            case g.BacklogExport(filters):
                return await listing.export(ctx, channel, filters)
            case g.BacklogSprintStart():
                return await sprints.start(ctx, channel, command)
            case g.BacklogSprintClose():
                return await sprints.close(ctx, channel)
            case g.BacklogLead(user):
                return await self._leads(ctx, channel, user=user)
            case g.BacklogColeads(users):
                return await self._leads(ctx, channel, coleads=users)
        return say("That backlog command is not known.", context="Type `backlog` for the commands.")

    async def _leads(
        self,
        ctx: CommandContext,
        channel: Channel,
        *,
        user: str | None = None,
        coleads: tuple[str, ...] = (),
    ) -> Reply:
        """Who leads the channel's sprints: the lead hands on, or names co-leads."""
        ritual = await existing_ritual(ctx.session, channel.id)
        if ritual is None:
            return say("This channel has no backlog yet.", context="`backlog add TITLE` files one.")
        return await permissions.change_leads(ctx, ritual, "backlog", user=user, coleads=coleads)

    async def open_form(self, ctx: CommandContext, form_id: str, value: str) -> Form | Message:
        if ctx.channel is None:
            return IN_A_CHANNEL.message
        return add_form(ctx.channel)

    async def submit_form(
        self, ctx: CommandContext, form_id: str, context: str, values: dict[str, str]
    ) -> Reply | dict[str, str]:
        if ctx.channel is None:
            return {"": "Open that form from the channel it is for."}
        return await submit_add(ctx, ctx.channel, values)

    async def press(self, ctx: CommandContext, action_id: str, value: str) -> Reply | None:
        """Next/Previous on a list, Done and Assign to me on an item, and the closer's
        choice for a closed sprint's open items."""
        if action_id == listing.PAGE_ACTION:
            found = await channel_of(ctx, action_id, value, 5)
            read = listing.read_page_value(found[1]) if found is not None else None
            if found is None or read is None:
                return OUT_OF_DATE
            number, direction, key, filters = read
            if direction == listing.NEXT:
                return await listing.listing(ctx, found[0], filters, number, after=key)
            return await listing.listing(ctx, found[0], filters, max(number, 1), before=key)
        if action_id in (items.DONE_ACTION, items.MINE_ACTION):
            found = await channel_of(ctx, action_id, value, 1)
            number = _number(found[1][0]) if found is not None else 0
            if found is None or not number:
                return OUT_OF_DATE
            if action_id == items.DONE_ACTION:
                return await changes.move(ctx, found[0], number, "done")
            return await changes.assign(ctx, found[0], number, None)
        if action_id == sprints.CARRY_ACTION:
            found = await channel_of(ctx, action_id, value, 2)
            if found is None or found[1][1] not in (sprints.NEXT, sprints.BACKLOG):
                return OUT_OF_DATE
            sprint_id = _number(found[1][0])
            if not sprint_id:
                return OUT_OF_DATE
            return await sprints.carry(ctx, found[0], sprint_id, found[1][1])
        return None

    async def home(self, ctx: CommandContext) -> list[Section]:
        rows = await ctx.session.execute(
            select(BacklogItem, Member, Ritual)
            .join(Ritual, Ritual.id == BacklogItem.ritual_id)
            .outerjoin(Member, Member.id == BacklogItem.owner_id)
            .where(BacklogItem.owner_id == ctx.member.id, BacklogItem.phase == "open")
            .order_by(BacklogItem.priority, BacklogItem.created_at)
            .limit(10)
        )
        lines = []
        for item, owner, ritual in rows.tuples():
            where = ritual.channel.name or ritual.channel.external_id
            lines.append(f"• #{where}: {items.view(item, owner, None).line()}")
        if not lines:
            return []
        return [Section(text="*Your open backlog items*\n" + "\n".join(lines))]

    # --- what kinds give each other ------------------------------------------------------

    async def take(
        self,
        session: AsyncSession,
        channel: Channel,
        handoff: Handoff,
        now: datetime,
        by: Member | None,
    ) -> Taken | None:
        """A task becomes an item of ``channel``'s backlog, once per ``source``; a backlog
        made for it is led by nobody yet: who hands work over does not lead the backlog."""
        ritual = await ritual_for(session, channel, by.tz if by else "UTC", now)
        await existing_ritual(session, channel.id, lock=True)
        source = handoff.source[:200]
        known = await items.by_source(session, ritual.id, source)
        if known is not None:
            return Taken(f"Already in the backlog as #{known.number}.", ref=f"#{known.number}")
        kind = handoff.category if handoff.category in g.TYPES else g.DEFAULT_TYPE
        title = items.one_line(handoff.title, g.MAX_TITLE) or handoff.label or source
        description = str(handoff.details.get("description", ""))[:3000]
        # The history says where it came from as its giver words it, not by the reference.
        origin = await self.peers.origin(session, channel, source) or handoff.label or source
        item = await items.file(
            session,
            ritual,
            title=title,
            type=kind,
            priority=g.DEFAULT_PRIORITY,
            owner_id=handoff.owner_id,
            by=by.id if by is not None else None,
            now=now,
            source=source,
            origin=origin,
            description=description,
        )
        return Taken(f"Filed in the backlog as #{item.number}.", ref=f"#{item.number}")

    async def recall(
        self, session: AsyncSession, channel: Channel, query: Recall, limit: int
    ) -> list[Recalled]:
        return await recall.recall(session, channel, query, limit)

    async def week(
        self, session: AsyncSession, channel: Channel, since: datetime, until: datetime
    ) -> list[Week]:
        return await week.week(session, channel, since, until)


def _number(token: str) -> int:
    number = int(token) if token.isascii() and token.isdigit() and len(token) <= 10 else 0
    return number if 1 <= number <= MAX_ID else 0


KIND = BacklogKind

__all__ = ["KIND", "BacklogKind"]
