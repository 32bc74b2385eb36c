"""Who may change a ritual: its lead, the co-leads the lead named, and workspace admins.

Every kind asks here before a change that is not a person's own (settings, questions,
pausing, exports of other people's answers, closing a retro), so one model holds for all.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import people
from rituals.context import CommandContext
from rituals.people import display
from rituals.reply import Reply, say
from storage.models import Member, Ritual, RitualColead


async def coleads(session: AsyncSession, ritual: Ritual) -> list[Member]:
    rows = await session.execute(
        select(Member)
        .join(RitualColead, RitualColead.member_id == Member.id)
        .where(RitualColead.ritual_id == ritual.id)
    )
    found = [m for m in rows.scalars() if m.id != ritual.lead_member_id]
    return sorted(found, key=lambda m: display(m).lower())


async def leads(session: AsyncSession, ritual: Ritual) -> list[Member]:
    """The lead first, then the co-leads by name."""
    lead = await session.get(Member, ritual.lead_member_id) if ritual.lead_member_id else None
    return [*([lead] if lead else []), *await coleads(session, ritual)]


async def may_change(ctx: CommandContext, ritual: Ritual, *also: int | None) -> bool:
    """The actor leads the ritual (or is one of ``also``, e.g. a retro's facilitator), or
    administers the workspace. A ritual nobody leads any more can be changed by anyone."""
    if ctx.actor.admin:
        return True
    allowed = {m.id for m in await leads(ctx.session, ritual)} | {i for i in also if i}
    return not allowed or ctx.member.id in allowed


async def who_may(ctx: CommandContext, ritual: Ritual, *also: Member | None) -> str:
    """The people a refusal names: those who may, then "a workspace admin"."""
    names = [display(m) for m in (*also, *await leads(ctx.session, ritual)) if m is not None]
    return ", ".join(dict.fromkeys(names)) + " or a workspace admin"


async def set_coleads(session: AsyncSession, ritual: Ritual, members: list[Member]) -> None:
    await session.execute(delete(RitualColead).where(RitualColead.ritual_id == ritual.id))
    session.add_all(
        RitualColead(ritual_id=ritual.id, member_id=m.id)
        for m in {m.id: m for m in members}.values()
        if m.id != ritual.lead_member_id
    )


UNKNOWN_HINT = "They can be named once they have used the bot in this workspace."


async def hand_on(ctx: CommandContext, ritual: Ritual, user: str, title: str) -> Reply:
    """``<word> lead @user``: the lead role passes on; the co-leads stay."""
    found = (await people.find(ctx.session, ctx.workspace.id, {user}))[user]
    if found is None:
        return say(f"I don't know who @{user} is here.", context=UNKNOWN_HINT)
    kept = await coleads(ctx.session, ritual)
    ritual.lead_member_id = found.id
    await set_coleads(ctx.session, ritual, kept)
    ctx.ritual_changed(ritual)
    return say(f"{display(found)} now leads the {title}.", public=True)


async def name_coleads(
    ctx: CommandContext, ritual: Ritual, users: tuple[str, ...], title: str
) -> Reply:
    """``<word> coleads @a @b`` (or none): who else may change the ritual."""
    found = await people.find(ctx.session, ctx.workspace.id, set(users))
    unknown = [f"@{name}" for name in users if found[name] is None]
    if unknown:
        verb = "is" if len(unknown) == 1 else "are"
        return say(
            f"I don't know who {', '.join(unknown)} {verb} here; nothing changed.",
            context=UNKNOWN_HINT,
        )
    await set_coleads(ctx.session, ritual, [m for m in found.values() if m])
    names = [display(m) for m in await leads(ctx.session, ritual)]
    ctx.ritual_changed(ritual)
    return say(f"The {title} is led by {', '.join(names) or 'nobody'}.", public=True)


async def change_leads(
    ctx: CommandContext,
    ritual: Ritual,
    title: str,
    *,
    user: str | None = None,
    coleads: tuple[str, ...] = (),
    whose: str = "",
) -> Reply:
    """``<word> lead @user`` (with ``user``) or ``<word> coleads @a @b | none``, refused to
    those who may not change ``ritual``; ``whose`` names what is led in the refusal
    ("retros"), when ``title`` does not read well there."""
    if not await may_change(ctx, ritual):
        who = await who_may(ctx, ritual)
        return say(f"Only {who} can change who leads this channel's {whose or title}.")
    if user is not None:
        return await hand_on(ctx, ritual, user, title)
    return await name_coleads(ctx, ritual, coleads, title)
