"""People and alerts: acknowledging, escalating what nobody took, handing an alert to the
backlog or a post-mortem, and what the stand-up summary and `alerts list` show."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import outbound, permissions
from rituals.alerts import cards, channel
from rituals.alerts.models import Alert, AlertGroup, AlertRule
from rituals.alerts.post import publish
from rituals.context import CommandContext
from rituals.kinds import Handoff, Notice, Peers
from rituals.messages import Button, ButtonStyle, Message, Section
from rituals.people import display
from rituals.reply import Reply, say
from rituals.signals import FIRING, RESOLVED
from rituals.telemetry import ALERTS_ESCALATED
from rituals.where import where_of
from storage.models import Channel, Member, Ritual
from storage.queries import claim_unset

ESCALATE_AFTER = timedelta(minutes=30)
NOTICE_LINES = 10
LISTED = 20
# What an alert handed on is known by: ``alerts:7`` as a task, ``alerts:7:postmortem``.
_SOURCE = re.compile(r"alerts:([0-9]{1,18})(?::postmortem)?")


async def origin(session: AsyncSession, channel_of: Channel, source: str) -> str | None:
    """``alert #7: churn auc``: the alert a hand-off of ``channel_of``'s came from."""
    match = _SOURCE.fullmatch(source)
    if match is None:
        return None
    alert = await session.get(Alert, int(match[1]))
    if alert is None:
        return None
    ritual = await session.get(Ritual, alert.ritual_id)
    if ritual is None or ritual.channel_id != channel_of.id:
        return None
    return f"alert #{alert.id}: {alert.name}"


async def find(ctx: CommandContext, alert_id: int, peers: Peers) -> Alert | None:
    """An alert of the channel the command came from or, in private, of a channel whose
    alerts the person answers for; any other alert is as good as none."""
    query = (
        select(Alert)
        .join(Ritual, Ritual.id == Alert.ritual_id)
        .join(Channel, Channel.id == Ritual.channel_id)
        .where(Alert.id == alert_id, Channel.workspace_id == ctx.workspace.id)
    )
    if ctx.channel is not None:
        query = query.where(Channel.id == ctx.channel.id)
    alert = (await ctx.session.execute(query.with_for_update(of=Alert))).scalar_one_or_none()
    if alert is None or ctx.channel is not None:
        return alert
    ritual = await ctx.session.get_one(Ritual, alert.ritual_id)
    return alert if await answers_for(ctx, ritual, peers) else None


async def answers_for(ctx: CommandContext, ritual: Ritual, peers: Peers) -> bool:
    """Whether the person answers for a channel's alerts from a private chat: a workspace
    admin, its alerts' lead or a co-lead, its on-call, or whom its alerts escalate to.

    Stricter than `permissions.may_change`, which lets anyone change a ritual nobody leads:
    a private chat shows no channel, so only a named role reaches one."""
    if ctx.actor.admin:
        return True
    if ctx.member.id in {m.id for m in await permissions.leads(ctx.session, ritual)}:
        return True
    if channel.of(ritual).oncall == ctx.member.id:
        return True
    target = await channel.escalation_target(ctx.session, ritual, peers)
    return target is not None and target.id == ctx.member.id


async def _refused(ctx: CommandContext, alert: Alert, ritual: Ritual, doing: str) -> Reply | None:
    """None when the person may hand the alert on (its acknowledger, the alerts' leads,
    a workspace admin); else a reply naming who may."""
    if await permissions.may_change(ctx, ritual, alert.acked_by):
        return None
    acked = await ctx.session.get(Member, alert.acked_by) if alert.acked_by else None
    return say(f"Only {await permissions.who_may(ctx, ritual, acked)} can {doing}.")


def _missing(alert_id: int) -> Reply:
    return say(f"There is no alert #{alert_id} here.", context="`alerts list` shows them.")


async def acknowledge(ctx: CommandContext, alert_id: int, peers: Peers) -> Reply:
    alert = await find(ctx, alert_id, peers)
    if alert is None:
        return _missing(alert_id)
    if alert.acked_at is not None:
        who = await ctx.session.get(Member, alert.acked_by) if alert.acked_by else None
        return say(
            f"#{alert.id} was acknowledged by {display(who) if who else 'someone'} "
            f"at {alert.acked_at:%H:%M} UTC already."
        )
    if alert.status == RESOLVED:
        return say(f"#{alert.id} is resolved already; there is nothing to take.")
    if not await claim_unset(ctx.session, Alert.acked_at, alert.id, ctx.now):
        return say(f"#{alert.id} was acknowledged meanwhile.")
    alert.acked_at = ctx.now
    alert.acked_by = ctx.member.id
    await publish(ctx.session, await ctx.session.get_one(AlertGroup, alert.group_id), ctx.now)
    buttons = []
    if peers.taker("task") is not None:
        buttons.append(
            Button(label="Make it a backlog item", action_id="alerts.task", value=str(alert.id))
        )
    return Reply(
        Message(
            text=f"{display(ctx.member)} acknowledged {cards.headline(alert)}.",
            buttons=buttons,
            context="It will not be escalated." if alert.escalated_at is None else "",
        ),
        public=True,
    )


async def to_backlog(ctx: CommandContext, alert_id: int, peers: Peers) -> Reply:
    alert = await find(ctx, alert_id, peers)
    if alert is None:
        return _missing(alert_id)
    if peers.taker("task") is None:
        return say("No ritual here takes tasks yet, so the alert cannot become a backlog item.")
    if alert.acked_at is None:
        return say(f"Acknowledge #{alert.id} first (`alerts ack {alert.id}`).")
    ritual = await ctx.session.get_one(Ritual, alert.ritual_id)
    if refused := await _refused(ctx, alert, ritual, f"make #{alert.id} a backlog item"):
        return refused
    handoff = Handoff(
        "task",
        f"Alert #{alert.id}: {alert.name}"[:200],
        source=f"alerts:{alert.id}",
        label=f"alert #{alert.id}",
        owner_id=alert.acked_by,
        category="monitor",
        details={"severity": alert.severity, "url": alert.url, "labels": dict(alert.labels)},
    )
    taken = await peers.take(ctx.session, ritual.channel, handoff, ctx.now, ctx.member)
    if taken is None:
        return say("No ritual here takes tasks yet, so the alert cannot become a backlog item.")
    alert.task_ref = taken.ref or alert.task_ref
    return say(taken.text, public=True)


async def postmortem(ctx: CommandContext, alert_id: int, peers: Peers) -> Reply:
    alert = await find(ctx, alert_id, peers)
    if alert is None:
        return _missing(alert_id)
    if peers.taker("postmortem") is None:
        return say("No ritual here opens post-mortems yet.")
    if alert.status != RESOLVED:
        return say(f"#{alert.id} is still firing; the post-mortem opens once it is resolved.")
    ritual = await ctx.session.get_one(Ritual, alert.ritual_id)
    if refused := await _refused(ctx, alert, ritual, f"open the post-mortem of #{alert.id}"):
        return refused
    acked = await ctx.session.get(Member, alert.acked_by) if alert.acked_by else None
    group = await ctx.session.get_one(AlertGroup, alert.group_id)
    handoff = Handoff(
        "postmortem",
        f"Post-mortem: {alert.name}"[:200],
        source=f"alerts:{alert.id}:postmortem",
        label=f"alert #{alert.id}",
        owner_id=alert.acked_by,
        details={
            "timeline": cards.timeline(alert, display(acked) if acked else None),
            "thread_of": group.outbox_id,
            "severity": alert.severity,
        },
    )
    taken = await peers.take(ctx.session, ritual.channel, handoff, ctx.now, ctx.member)
    if taken is None:
        return say("No ritual here opens post-mortems yet.")
    if taken.ref and taken.ref != alert.postmortem_ref and group.outbox_id is not None:
        # The alert's thread says where its post-mortem is, once.
        where = await where_of(ctx.session, ritual.channel_id)
        await outbound.queue(
            ctx.session,
            where.post(thread_of=group.outbox_id, dedup_key=f"alert-pm:{alert.id}"),
            Message(text=f"{display(ctx.member)} opened the post-mortem. {taken.text}"),
            ctx.now,
        )
    alert.postmortem_ref = taken.ref or alert.postmortem_ref
    return say(taken.text)


async def escalate(session: AsyncSession, now: datetime, peers: Peers) -> int:
    """Alerts firing past ``ESCALATE_AFTER`` that nobody took, told once to the on-call
    (or the stand-up's lead): in the group's thread and in private, one message each."""
    rows = await session.execute(
        select(Alert)
        .where(
            Alert.status == FIRING,
            Alert.acked_at.is_(None),
            Alert.escalated_at.is_(None),
            Alert.muted.is_(False),
            Alert.fired_at <= now - ESCALATE_AFTER,
        )
        .order_by(Alert.ritual_id, Alert.group_id, Alert.id)
        .limit(500)
    )
    by_ritual: dict[int, list[Alert]] = {}
    for alert in rows.scalars():
        if await claim_unset(session, Alert.escalated_at, alert.id, now):
            alert.escalated_at = now
            by_ritual.setdefault(alert.ritual_id, []).append(alert)
    for ritual_id, alerts in by_ritual.items():
        ritual = await session.get_one(Ritual, ritual_id)
        target = await channel.escalation_target(session, ritual, peers)
        where = await where_of(session, ritual.channel_id)
        who = display(target) if target else "the channel"
        lines = "\n".join(f"• {cards.headline(a)} [{a.severity}]" for a in alerts[:LISTED])
        more = f"\n… and {len(alerts) - LISTED} more" if len(alerts) > LISTED else ""
        minutes = int(ESCALATE_AFTER.total_seconds() // 60)
        for group_id in dict.fromkeys(a.group_id for a in alerts):
            group = await session.get_one(AlertGroup, group_id)
            ids = ", ".join(f"#{a.id}" for a in alerts if a.group_id == group_id)
            await outbound.queue(
                session,
                where.post(thread_of=group.outbox_id, dedup_key=f"alert-esc:{group_id}:{now}"),
                Message(
                    text=f"Escalated to {who}: {ids} unacknowledged for {minutes} min.",
                    context="`alerts ack ID` or the Acknowledge button takes one.",
                ),
                now,
            )
        if target is not None:
            await outbound.queue(
                session,
                where.direct(target.external_id),
                Message(
                    text=f"Alerts in #{where.channel_name} nobody acknowledged for {minutes} min:",
                    sections=[Section(text=lines + more)],
                    buttons=[
                        Button(
                            label=f"Acknowledge #{a.id}",
                            action_id="alerts.ack",
                            value=str(a.id),
                            style=ButtonStyle.primary,
                        )
                        for a in alerts[:5]
                    ],
                    context="You are on call for it (`alerts oncall @user` changes who is).",
                ),
                now,
            )
        ALERTS_ESCALATED.inc(len(alerts))
    return sum(len(a) for a in by_ritual.values())


async def notices(
    session: AsyncSession, channel_row: Channel, since: datetime | None, now: datetime
) -> list[Notice]:
    ritual = await channel.existing_ritual(session, channel_row.id)
    if ritual is None:
        return []
    firing = list(
        (
            await session.execute(
                select(Alert)
                .where(Alert.ritual_id == ritual.id, Alert.status == FIRING, Alert.muted.is_(False))
                .order_by(Alert.fired_at, Alert.id)
            )
        ).scalars()
    )
    resolved_query = select(Alert).where(
        Alert.ritual_id == ritual.id, Alert.status == RESOLVED, Alert.muted.is_(False)
    )
    if since is not None:
        resolved_query = resolved_query.where(Alert.resolved_at > since)
    resolved = list(
        (await session.execute(resolved_query.order_by(Alert.resolved_at, Alert.id))).scalars()
    )
    names = {
        m.id: display(m)
        for m in (
            await session.execute(
                select(Member).where(
                    Member.id.in_({a.acked_by for a in firing + resolved if a.acked_by})
                )
            )
        ).scalars()
    }
    found = []
    if firing:
        found.append(
            Notice("Alerts still firing", _bounded([_notice(a, names, now) for a in firing]))
        )
    if resolved:
        heading = "Alerts resolved since the last summary" if since else "Alerts resolved"
        found.append(Notice(heading, _bounded([_notice(a, names, now) for a in resolved])))
    return found


def _notice(alert: Alert, names: dict[int, str], now: datetime) -> str:
    return f"{cards.headline(alert)} [{alert.severity}] — {cards.state(alert, names, now)}"


def _bounded(lines: list[str]) -> tuple[str, ...]:
    if len(lines) <= NOTICE_LINES:
        return tuple(lines)
    return (*lines[: NOTICE_LINES - 1], f"… and {len(lines) - NOTICE_LINES + 1} more")


async def listing(ctx: CommandContext, ritual: Ritual | None) -> Reply:
    if ritual is None:
        return say(
            "No alerts are connected in this channel.",
            context="`alerts connect` gives this channel a webhook URL.",
        )
    session = ctx.session
    options = channel.of(ritual)
    open_alerts = list(
        (
            await session.execute(
                select(Alert)
                .where(Alert.ritual_id == ritual.id, Alert.status == FIRING)
                .order_by(Alert.id)
                .limit(LISTED)
            )
        ).scalars()
    )
    total = await session.scalar(
        select(func.count()).where(Alert.ritual_id == ritual.id, Alert.status == FIRING)
    )
    names = {
        m.id: display(m)
        for m in (
            await session.execute(
                select(Member).where(Member.id.in_({a.acked_by for a in open_alerts if a.acked_by}))
            )
        ).scalars()
    }
    sections = []
    firing = [a for a in open_alerts if a.acked_at is None and not a.muted]
    acked = [a for a in open_alerts if a.acked_at is not None and not a.muted]
    muted_alerts = [a for a in open_alerts if a.muted]
    for heading, group in (
        ("Firing", firing),
        ("Acknowledged", acked),
        ("Muted", muted_alerts),
    ):
        if group:
            sections.append(
                Section(
                    text=f"*{heading}*\n"
                    + "\n".join(f"• {_notice(a, names, ctx.now)}" for a in group)
                )
            )
    if (total or 0) > LISTED:
        sections.append(Section(text=f"… and {(total or 0) - LISTED} more firing"))
    mutes = [
        f"• {model} until {until:%Y-%m-%d %H:%M} UTC"
        for model in sorted(options.mutes)
        if (until := options.muted_until(model, ctx.now)) is not None
    ]
    if mutes:
        sections.append(Section(text="*Muted models*\n" + "\n".join(mutes)))
    rules = (
        await session.execute(
            select(AlertRule).where(AlertRule.ritual_id == ritual.id).order_by(AlertRule.id)
        )
    ).scalars()
    rule_lines = [
        f"• R{r.id} {r.model} {r.metric} {r.op} {r.threshold:g}"
        + (f" for {r.for_minutes} min" if r.for_minutes else "")
        for r in rules
    ]
    if rule_lines:
        sections.append(Section(text="*Rules*\n" + "\n".join(rule_lines)))
    oncall = await session.get(Member, options.oncall) if options.oncall else None
    return Reply(
        Message(
            text="Alerts here" if sections else "No alerts firing here, no mutes, no rules.",
            sections=sections,
            context=f"On call: {display(oncall)}"
            if oncall
            else "On call: nobody named "
            "(`alerts oncall @user`); escalations go to the stand-up's lead.",
        )
    )
