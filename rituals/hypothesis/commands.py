"""The `hypothesis` commands: add, list, show, check in, close, and the digest's time.

Everything is checked before anything is written, so a bad id, an unknown owner, a
deadline in the past or a value that is not a number leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import structlog
from sqlalchemy import select, update

from rituals import outbound, people, permissions
from rituals.context import CommandContext
from rituals.hypothesis import grammar as g
from rituals.hypothesis import store, views
from rituals.hypothesis.cadence import next_checkin, valid
from rituals.hypothesis.models import Hypothesis, HypothesisAsk, HypothesisEvent, HypothesisPoint
from rituals.kinds import Peers
from rituals.messages import Button, ButtonStyle, Message, Section, plural
from rituals.people import display
from rituals.reply import Reply, say
from rituals.schedule import local_date
from rituals.where import where_of
from storage.models import Channel, Member, Ritual

log = structlog.get_logger(__name__)

SERIES_SHOWN = 10
HISTORY_SHOWN = 20
LIST_SHOWN = 50
OUTCOME_STATE = {"validated": "validated", "invalidated": "invalidated", "pivot": "pivoted"}
IN_A_CHANNEL = say(
    "Hypotheses belong to a channel: use this command there.",
    context="In private, `hypothesis list mine` and `hypothesis checkin ID …` work.",
)


def not_found(number: int) -> Reply:
    return say(
        f"There is no hypothesis #{number} here.", context="`hypothesis list all` lists them."
    )


async def add(ctx: CommandContext, channel: Channel, command: g.HypothesisAdd) -> Reply:
    session = ctx.session
    owner = ctx.member
    if command.owner is not None:
        found = (await people.find(session, ctx.workspace.id, {command.owner}))[command.owner]
        if found is None:
            return say(
                f"I don't know who @{command.owner} is here; nothing added.",
                context=permissions.UNKNOWN_HINT,
            )
        owner = found
    today = local_date(ctx.now, ctx.member.tz)
    if command.by is not None and command.by < today:
        return say(
            f"The deadline {command.by.isoformat()} is in the past; nothing added.",
            context="Give a date from today on, like `by "
            f"{date(today.year + 1, 1, 31).isoformat()}`.",
        )
    if not valid(command.checkin, owner.tz, ctx.now):
        return say(f"The check-in cron `{command.checkin}` never runs; nothing added.")
    ritual = await store.ritual_for(session, channel, ctx.member.tz, ctx.now)
    if ritual.lead_member_id is None:
        ritual.lead_member_id = ctx.member.id
    hypothesis = Hypothesis(
        ritual_id=ritual.id,
        channel_id=channel.id,
        number=await store.next_number(session, ritual.id),
        belief=command.belief,
        result=command.result,
        metric=command.metric,
        op=command.op,
        target=command.target,
        baseline=command.baseline,
        model=command.model,
        deadline=command.by,
        cadence=command.checkin,
        owner_id=owner.id,
        created_by=ctx.member.id,
        state="proposed",
        status="",
        recent=[],
        points=0,
        next_checkin_at=next_checkin(command.checkin, owner.tz, ctx.now),
        created_at=ctx.now,
        outcome_note="",
    )
    session.add(hypothesis)
    await session.flush()
    store.note(session, hypothesis, "proposed", ctx.now, ctx.member.id)
    return Reply(
        Message(
            text=f"Hypothesis #{hypothesis.number} proposed by {display(ctx.member)}",
            sections=[Section(text=views.canvas(hypothesis, display(owner)))],
            context=f"{display(owner)} is asked for check-ins in private; "
            f"`hypothesis checkin {hypothesis.number} on-track {command.metric}=VALUE note` "
            "any time.",
        ),
        public=True,
    )


async def listing(ctx: CommandContext, scope: g.HypothesisScope) -> Reply:
    session = ctx.session
    query = select(Hypothesis).order_by(Hypothesis.channel_id, Hypothesis.number)
    if ctx.channel is not None:
        query = query.where(Hypothesis.channel_id == ctx.channel.id)
    elif scope is not g.HypothesisScope.mine:
        return IN_A_CHANNEL
    if scope is g.HypothesisScope.mine or ctx.channel is None:
        query = query.where(Hypothesis.owner_id == ctx.member.id)
    if scope is not g.HypothesisScope.all:
        query = query.where(Hypothesis.state.in_(store.OPEN_STATES))
    found = list((await session.execute(query.limit(LIST_SHOWN + 1))).scalars())
    if not found:
        return say(
            "No hypotheses" + (" open" if scope is not g.HypothesisScope.all else "") + " here.",
            context=f"Add one: {g.EXAMPLE}",
        )
    today = local_date(ctx.now, ctx.member.tz)
    lines = [f"• {views.line(h, today)}" for h in found[:LIST_SHOWN]]
    more = " (the first 50)" if len(found) > LIST_SHOWN else ""
    return Reply(
        Message(
            text=f"Hypotheses ({scope.value}){more}:",
            sections=[Section(text="\n".join(lines))],
            context="`hypothesis show ID` for one's canvas, series and history.",
        )
    )


async def resolve(ctx: CommandContext, number: int, *, lock: bool = False) -> Hypothesis | Reply:
    """Hypothesis ``#number`` of this channel, or in private the person's own."""
    if ctx.channel is not None:
        found = await store.find(ctx.session, ctx.channel.id, number, lock=lock)
        return found if found is not None else not_found(number)
    mine = await store.owned(ctx.session, ctx.member.id, number, lock=lock)
    if len(mine) == 1:
        return mine[0]
    if not mine:
        return say(
            f"You own no hypothesis #{number}.", context="`hypothesis list mine` lists yours."
        )
    return say(f"You own a #{number} in several channels: use the command in its channel.")


async def show(ctx: CommandContext, number: int) -> Reply:
    session = ctx.session
    found = await resolve(ctx, number)
    if isinstance(found, Reply):
        return found
    h = found
    owner = await session.get(Member, h.owner_id) if h.owner_id is not None else None
    points = list(
        (
            await session.execute(
                select(HypothesisPoint)
                .where(HypothesisPoint.hypothesis_id == h.id)
                .order_by(HypothesisPoint.at.desc(), HypothesisPoint.id.desc())
                .limit(SERIES_SHOWN)
            )
        ).scalars()
    )[::-1]
    events = list(
        (
            await session.execute(
                select(HypothesisEvent)
                .where(HypothesisEvent.hypothesis_id == h.id)
                .order_by(HypothesisEvent.at.desc(), HypothesisEvent.id.desc())
                .limit(HISTORY_SHOWN)
            )
        ).scalars()
    )[::-1]
    today = local_date(ctx.now, ctx.member.tz)
    series = [_point_line(p, ctx.member.tz) for p in points] or ["no points yet"]
    history = [
        f"{local_date(e.at, ctx.member.tz).isoformat()} {e.state}"
        + (f" — {e.note}" if e.note else "")
        for e in events
    ]
    # A closed one has no time left to count: its deadline no longer runs.
    left = f" · {views.days_left(h, today)}" if h.state in store.OPEN_STATES else ""
    return Reply(
        Message(
            text=f"Hypothesis #{h.number} · {h.state}{left}",
            sections=[
                Section(text=views.canvas(h, display(owner) if owner else views.NO_OWNER)),
                Section(
                    text=f"*Series* ({plural(h.points, 'point')}) "
                    f"{views.sparkline(h.recent, h.target)} target {views.goal(h)}\n"
                    + "\n".join(series)
                ),
                Section(text="*History*\n" + "\n".join(history)),
            ],
        )
    )


def _point_line(p: HypothesisPoint, tz: str) -> str:
    value = views.number(p.value) if p.value is not None else "—"
    status = f" {views.STATUS_LABEL.get(p.status or '', p.status)}" if p.status else ""
    source = " (monitoring)" if p.source and not p.source.startswith("checkin") else ""
    text = f" — {p.note}" if p.note else ""
    return f"{local_date(p.at, tz).isoformat()} {value}{status}{source}{text}"


async def may_change(ctx: CommandContext, h: Hypothesis) -> Reply | None:
    """None when the actor owns ``h``, leads the channel's hypotheses, or is an admin."""
    ritual = await ctx.session.get_one(Ritual, h.ritual_id)
    if await permissions.may_change(ctx, ritual, h.owner_id):
        return None
    owner = await ctx.session.get(Member, h.owner_id) if h.owner_id is not None else None
    return say(f"Only {await permissions.who_may(ctx, ritual, owner)} can change #{h.number}.")


def closed(h: Hypothesis) -> Reply:
    return say(f"#{h.number} is closed ({h.state}); nothing changed.")


async def by_id(ctx: CommandContext, hypothesis_id: int) -> Hypothesis | Reply:
    """A hypothesis a button or form names by its row id: only one of this workspace; in a
    channel only one of that channel, and in private only one the presser may change. Row
    ids are easy to guess, so any other reads as not found and shows nothing of it."""
    h = (
        await ctx.session.execute(
            select(Hypothesis)
            .join(Channel, Channel.id == Hypothesis.channel_id)
            .where(Hypothesis.id == hypothesis_id, Channel.workspace_id == ctx.workspace.id)
            .with_for_update(of=Hypothesis)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    out_of_date = say("That button is out of date.", context="`hypothesis list` lists them.")
    if h is None or (ctx.channel is not None and ctx.channel.id != h.channel_id):
        return out_of_date
    if ctx.channel is None and await may_change(ctx, h) is not None:
        return out_of_date
    return h


async def checkin(
    ctx: CommandContext,
    found: Hypothesis | Reply,
    status: str,
    metrics: Sequence[tuple[str, float]],
    text: str,
    *,
    source: str | None = None,
) -> Reply:
    """A check-in by command, answer or form: one point of the series."""
    if isinstance(found, Reply):
        return found
    h = found
    refused = await may_change(ctx, h)
    if refused is not None:
        return refused
    if h.state not in store.OPEN_STATES:
        return closed(h)
    values = [v for name, v in metrics if name.lower() == h.metric.lower()]
    others = [name for name, _ in metrics if name.lower() != h.metric.lower()]
    if others:
        return say(
            f"#{h.number} tracks {h.metric}, not {others[0]}; nothing recorded.",
            context=f"Write `{h.metric}=VALUE`.",
        )
    value = values[-1] if values else None
    added = await store.add_point(
        ctx.session,
        h,
        ctx.now,
        value=value,
        status=status,
        text=text,
        member_id=ctx.member.id,
        source=source,
    )
    if not added:
        return say(f"That check-in for #{h.number} is recorded already.")
    h.missed_at = None
    await ctx.session.execute(
        update(HypothesisAsk)
        .where(
            HypothesisAsk.hypothesis_id == h.id,
            HypothesisAsk.answered_at.is_(None),
            HypothesisAsk.asked_at.is_not(None),
        )
        .values(answered_at=ctx.now, outcome="answered")
        .execution_options(synchronize_session=False)
    )
    shown = f" · {h.metric} {views.number(value)}" if value is not None else ""
    reply = f"Check-in for #{h.number} recorded: {views.STATUS_LABEL[status]}{shown}."
    suggest = (value is not None and store.meets(h, value)) or status == "validated"
    if not suggest and status != "invalidated":
        return say(reply, context=f"Target {views.goal(h)}; {plural(h.points, 'point')} so far.")
    outcome = "invalidated" if status == "invalidated" and not suggest else "validated"
    why = "That meets the target" if value is not None and store.meets(h, value) else "Noted"
    return Reply(
        Message(
            text=reply,
            sections=[
                Section(
                    text=f"{why} ({views.goal(h)}): close it? "
                    f"`hypothesis close {h.number} {outcome} what we learned`"
                )
            ],
            buttons=[
                Button(
                    label=f"Close as {outcome}",
                    action_id=f"hypothesis.{outcome}",
                    value=str(h.id),
                    style=ButtonStyle.primary,
                )
            ],
        )
    )


async def close(
    ctx: CommandContext, h: Hypothesis | Reply, outcome: str, text: str, peers: Peers
) -> Reply:
    if isinstance(h, Reply):
        return h
    refused = await may_change(ctx, h)
    if refused is not None:
        return refused
    if not await _claim_close(ctx, h, OUTCOME_STATE[outcome], text):
        await ctx.session.refresh(h)
        return closed(h)
    await ctx.session.refresh(h)
    store.note(ctx.session, h, h.state, ctx.now, ctx.member.id, text)
    await ctx.session.execute(
        update(HypothesisAsk)
        .where(HypothesisAsk.hypothesis_id == h.id, HypothesisAsk.answered_at.is_(None))
        .values(answered_at=ctx.now, outcome="closed")
        .execution_options(synchronize_session=False)
    )
    where = await where_of(ctx.session, h.channel_id)
    await outbound.queue(
        ctx.session,
        where.post(dedup_key=f"hypothesis-closed:{h.id}"),
        outcome_message(h, display(ctx.member), peers.taker("task") is not None),
        ctx.now,
    )
    log.info("hypothesis closed", hypothesis_id=h.id, state=h.state)
    place = f"#{where.channel_name}" if where.channel_name else "the channel"
    return say(f"#{h.number} closed as {h.state}; the outcome is posted in {place}.")


async def _claim_close(ctx: CommandContext, h: Hypothesis, state: str, text: str) -> bool:
    result = await ctx.session.execute(
        update(Hypothesis)
        .where(Hypothesis.id == h.id, Hypothesis.state.in_(store.OPEN_STATES))
        .values(
            state=state, closed_at=ctx.now, outcome_note=text, next_checkin_at=None, missed_at=None
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def outcome_message(h: Hypothesis, by: str, offer_task: bool) -> Message:
    last = f"; last {h.metric} {views.number(h.recent[-1])}" if h.recent else ""
    learned = h.outcome_note or "_nothing written down_"
    buttons = (
        [
            Button(
                label="Add the next step to the backlog",
                action_id="hypothesis.next",
                value=str(h.id),
            )
        ]
        if offer_task
        else []
    )
    return Message(
        text=f"Hypothesis #{h.number} {h.state} (closed by {by})",
        sections=[
            Section(
                text=f"We believed {h.belief} would result in {h.result}; target "
                f"{views.goal(h)} {views.sparkline(h.recent, h.target)}{last} "
                f"over {plural(h.points, 'point')}."
            ),
            Section(text=f"*What we learned*: {learned}"),
        ],
        buttons=buttons,
    )


def next_step_title(h: Hypothesis) -> str:
    lesson = h.outcome_note or f"{h.metric} {h.op} {views.number(h.target)}"
    title = f"Next step after hypothesis #{h.number} ({h.state}): {lesson}"
    return title[:300]
