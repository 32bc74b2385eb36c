"""Commands on items: filing one, and changing one's state, owner, priority, sprint or title.

Each change is checked before anything is written, so a refused or mistaken command
changes nothing, and each one that goes through leaves a line in the item's history.
"""

from __future__ import annotations

from rituals import people, permissions
from rituals.backlog import grammar as g
from rituals.backlog import items, sprints
from rituals.backlog.channel import existing_ritual, refs, ritual_for
from rituals.backlog.items import ItemView, phase_of
from rituals.backlog.models import BacklogItem
from rituals.context import CommandContext
from rituals.kinds import Peers
from rituals.messages import Message, Section
from rituals.people import display
from rituals.reply import Reply, say
from storage.models import Channel, Member, Ritual

UNKNOWN_HINT = "They can be named once they have used the bot in this workspace."


def not_found(number: int) -> Reply:
    return say(
        f"Sorry — there is no item #{number} in this channel's backlog.",
        context="`backlog list` shows the open items with their ids.",
    )


def unknown(user: str) -> Reply:
    return say(f"I don't know who @{user} is here; nothing changed.", context=UNKNOWN_HINT)


async def owner_named(ctx: CommandContext, user: str | None) -> Member | Reply | None:
    """The member an ``@name`` means, None for no name, or the reply when nobody fits."""
    if user is None:
        return None
    found = (await people.find(ctx.session, ctx.workspace.id, {user}))[user]
    return unknown(user) if found is None else found


async def add(
    ctx: CommandContext,
    channel: Channel,
    title: str,
    *,
    type: str | None = None,
    priority: int | None = None,
    owner: str | None = None,
    description: str = "",
    link: str = "",
) -> Reply:
    named = await owner_named(ctx, owner)
    if isinstance(named, Reply):
        return named
    ritual = await ritual_for(ctx.session, channel, ctx.member.tz, ctx.now, ctx.member.id)
    item = await items.file(
        ctx.session,
        ritual,
        title=title,
        type=type or g.DEFAULT_TYPE,
        priority=g.DEFAULT_PRIORITY if priority is None else priority,
        owner_id=named.id if named is not None else None,
        by=ctx.member.id,
        now=ctx.now,
        description=description,
        link=link,
    )
    shown = await items.view_of(ctx.session, item)
    return Reply(
        Message(
            text=f"{display(ctx.member)} filed {shown.line()}",
            sections=_details(shown),
            buttons=items.buttons(await refs(ctx), channel, item),
            context=f"`backlog show {item.number}` for its history.",
        ),
        public=True,
    )


def _details(shown: ItemView) -> list[Section]:
    lines = [one for one in (shown.description, shown.link) if one]
    return [Section(text=items.one_line(line, 2900)) for line in lines]


async def _item(
    ctx: CommandContext, channel: Channel, number: int
) -> tuple[Ritual, BacklogItem] | Reply:
    ritual = await existing_ritual(ctx.session, channel.id)
    item = await items.find(ctx.session, ritual.id, number) if ritual is not None else None
    if ritual is None or item is None:
        return not_found(number)
    return ritual, item


async def _changeable(
    ctx: CommandContext, channel: Channel, number: int
) -> tuple[Ritual, BacklogItem] | Reply:
    found = await _item(ctx, channel, number)
    if isinstance(found, Reply):
        return found
    ritual, item = found
    if not await items.may_change(ctx, ritual, item):
        return await refusal(ctx, ritual, item)
    return found


async def refusal(ctx: CommandContext, ritual: Ritual, item: BacklogItem) -> Reply:
    who = await permissions.who_may(ctx, ritual)
    return say(
        f"#{item.number} is not yours: whoever filed it, its owner, {who} can change it.",
        context="`backlog assign` or the Assign to me button on an item nobody owns.",
    )


async def move(ctx: CommandContext, channel: Channel, number: int, state: str) -> Reply:
    found = await _changeable(ctx, channel, number)
    if isinstance(found, Reply):
        return found
    _, item = found
    if item.state == state:
        return say(f"#{item.number} is {state} already.")
    item.state, item.phase = state, phase_of(state)
    items.record(ctx.session, item, ctx.member.id, f"state {state}", ctx.now)
    shown = await items.view_of(ctx.session, item)
    return Reply(
        Message(text=f"{display(ctx.member)} moved {shown.line()}"),
        public=state == "done",
    )


async def assign(ctx: CommandContext, channel: Channel, number: int, user: str | None) -> Reply:
    """To ``@user``, or with None to the person asking: anyone may take an item nobody owns."""
    mine = user is None or user.lower() == "me"
    named = ctx.member if mine else await owner_named(ctx, user)
    if isinstance(named, Reply):
        return named
    assert named is not None
    found = await _item(ctx, channel, number)
    if isinstance(found, Reply):
        return found
    ritual, item = found
    taking = named.id == ctx.member.id and item.owner_id is None
    if not taking and not await items.may_change(ctx, ritual, item):
        return await refusal(ctx, ritual, item)
    if item.owner_id == named.id:
        return say(f"#{item.number} is {display(named)}'s already.")
    item.owner_id = named.id
    items.record(ctx.session, item, ctx.member.id, f"owner @{display(named)}", ctx.now)
    return say(f"#{item.number} is now {display(named)}'s: {items.one_line(item.title, 200)}")


async def prioritize(ctx: CommandContext, channel: Channel, number: int, priority: int) -> Reply:
    found = await _changeable(ctx, channel, number)
    if isinstance(found, Reply):
        return found
    _, item = found
    if item.priority == priority:
        return say(f"#{item.number} is p{priority} already.")
    item.priority = priority
    items.record(ctx.session, item, ctx.member.id, f"priority p{priority}", ctx.now)
    return say(f"#{item.number} is p{priority} now.")


async def plan(ctx: CommandContext, channel: Channel, number: int, name: str) -> Reply:
    """Into the sprint named (planned if it has not started), or back to the backlog."""
    found = await _changeable(ctx, channel, number)
    if isinstance(found, Reply):
        return found
    ritual, item = found
    if name.lower() in g.NO_SPRINT:
        if item.sprint_id is None:
            return say(f"#{item.number} is in no sprint.")
        item.sprint_id = None
        items.record(ctx.session, item, ctx.member.id, "back to the backlog", ctx.now)
        return say(f"#{item.number} is back in the backlog, in no sprint.")
    sprint = await sprints.named(ctx.session, ritual, name, ctx.now)
    if sprint.closed_at is not None:
        return say(f"{sprint.name} is closed already; name another sprint.")
    if item.sprint_id == sprint.id:
        return say(f"#{item.number} is in {sprint.name} already.")
    item.sprint_id = sprint.id
    items.record(ctx.session, item, ctx.member.id, f"sprint {sprint.name}", ctx.now)
    planned = "" if sprint.started_at is not None else " (planned; not started yet)"
    return say(f"#{item.number} is in {sprint.name}{planned}.")


async def edit(ctx: CommandContext, channel: Channel, number: int, title: str) -> Reply:
    found = await _changeable(ctx, channel, number)
    if isinstance(found, Reply):
        return found
    _, item = found
    if item.title == title:
        return say(f"#{item.number} has that title already.")
    was = items.one_line(item.title, 300)
    item.title = title
    items.record(ctx.session, item, ctx.member.id, f"title was: {was}", ctx.now)
    return say(f"#{item.number} is now titled: {items.one_line(title, 300)}")


async def show(ctx: CommandContext, channel: Channel, number: int, peers: Peers) -> Reply:
    found = await _item(ctx, channel, number)
    if isinstance(found, Reply):
        return found
    _, item = found
    shown = await items.view_of(ctx.session, item)
    steps = (await items.history(ctx.session, [item.id])).get(item.id, [])
    sections = _details(shown)
    if shown.source:
        # Said by the kind that handed it over; the bare reference if none knows it now.
        origin = await peers.origin(ctx.session, channel, shown.source)
        sections.append(Section(text=f"From {origin or shown.source}"))
    sections.append(Section(text="*History*\n" + "\n".join(f"• {s}" for s in steps[-20:])))
    return Reply(
        Message(
            text=shown.line(),
            sections=sections,
            buttons=items.buttons(await refs(ctx), channel, item),
        )
    )
