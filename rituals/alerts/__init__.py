"""Model alerts: a channel's webhook (plain JSON, Alertmanager, Grafana, which the webhook
edge reads into `events`) turned into one message per alert group updated in place,
acknowledged, escalated once when nobody takes it, and carried into the stand-up summary,
the backlog and post-mortems."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import permissions
from rituals.alerts import channel, incidents, keys, recall, week
from rituals.alerts import grammar as g
from rituals.alerts.intake import OPS, Intake
from rituals.alerts.models import AlertHook, AlertRule
from rituals.commands import Command
from rituals.commands.tokens import MAX_ID, button_id
from rituals.context import CommandContext
from rituals.kinds import HookReply, Kind, Notice, Recall, Recalled, Sweep, Week
from rituals.messages import Message
from rituals.people import display, find
from rituals.reply import Reply, say
from rituals.signals import Batch
from rituals.signing import signing_key
from storage.models import Channel, Ritual

log = structlog.get_logger(__name__)

HOOK_ATTEMPTS = 3
MAX_RULES = 50
NOT_FOUND = HookReply(404, {"error": "not found"})
TITLE = "alerts ritual"


class AlertsKind(Kind):
    word = g.WORD
    title = "alert"
    verbs = g.VERBS
    help = (
        "alerts connect (a new webhook URL; again to rotate it) · alerts disconnect · "
        "alerts rule add MODEL METRIC OP THRESHOLD [for DURATION] · alerts list · "
        "alerts ack ID · alerts mute MODEL DURATION · alerts oncall @user | none · "
        "alerts lead @user · alerts coleads @user… | none"
    )
    intro = "model alerts from Alertmanager, Grafana or a plain webhook, acknowledged in place"
    start_hint = "`alerts connect` gives the channel a webhook URL"
    hooks = True

    _key: str | None = None

    async def key(self, session: AsyncSession) -> str:
        """The key webhook tokens are hashed with: the configured one, else the stored one
        (neither changes while the process runs)."""
        if self._key is None:
            self._key = await signing_key(session, self.rt.secret_key)
        return self._key

    # --- commands and buttons ---------------------------------------------------------

    async def handle(self, ctx: CommandContext, command: Command) -> Reply:
        if isinstance(command, g.AlertsAck):
            return await incidents.acknowledge(ctx, command.alert_id, self.peers)
        if ctx.channel is None:
            return say("Alerts commands work in the channel the alerts go to.")
        if isinstance(command, g.AlertsList):  # reads only: takes no lock an alert waits on
            return await incidents.listing(
                ctx, await channel.existing_ritual(ctx.session, ctx.channel.id)
            )
        ritual = await channel.existing_ritual(ctx.session, ctx.channel.id, lock=True)
        if ritual is None:
            ritual = await channel.ritual_for(ctx.session, ctx.channel, ctx.member.tz, ctx.now)
        if not await permissions.may_change(ctx, ritual):
            who = await permissions.who_may(ctx, ritual)
            return say(f"Only {who} can change this channel's alerts.")
        if not ctx.actor.admin and await self._unclaimed(ctx, ritual):
            return say(
                "This channel's alert webhook was connected on the bot's server, and nobody "
                "leads its alerts yet.",
                context="A workspace admin names who does first: `alerts lead @user`.",
            )
        match command:
            case g.AlertsLead(user):
                return await permissions.hand_on(ctx, ritual, user, TITLE)
            case g.AlertsColeads(users):
                return await permissions.name_coleads(ctx, ritual, users, TITLE)
            case g.AlertsConnect():
                return await self._connect(ctx, ritual)
            case g.AlertsDisconnect():
                if not await keys.revoke(ctx.session, ritual):
                    return say("This channel has no alert webhook to disconnect.")
                return say(
                    f"{display(ctx.member)} disconnected this channel's alert webhook; its URL "
                    "no longer works.",
                    public=True,
                )
            case g.AlertsRuleAdd():
                return await self._rule(ctx, ritual, command)
            case g.AlertsMute(model, minutes):
                options = channel.of(ritual)
                until = ctx.now + timedelta(minutes=minutes)
                options.mutes = {
                    m: u for m, u in options.mutes.items() if options.muted_until(m, ctx.now)
                }
                options.mutes[model] = until.isoformat()
                channel.save(ritual, options)
                return say(
                    f"{model} is muted until {until:%Y-%m-%d %H:%M} UTC: its alerts are stored "
                    "and counted, not posted.",
                    public=True,
                )
            case g.AlertsOncall(user):
                return await self._oncall(ctx, ritual, user)
        return say("That alerts command is not known.", context="Type `alerts` for the commands.")

    async def _unclaimed(self, ctx: CommandContext, ritual: Ritual) -> bool:
        """Connected from the server (`ritualbot alerts connect`) with nobody leading it:
        the first person to type a command must not take the operator's webhook over."""
        if await permissions.leads(ctx.session, ritual):
            return False
        return await ctx.session.get(AlertHook, ritual.id) is not None

    async def _connect(self, ctx: CommandContext, ritual: Ritual) -> Reply:
        if ritual.lead_member_id is None:
            ritual.lead_member_id = ctx.member.id  # whoever connects leads the channel's alerts
        url, replaced = await keys.connect(
            ctx.session,
            ritual,
            configured_key=self.rt.secret_key,
            public_url=self.rt.public_url,
            now=ctx.now,
        )
        rotated = " The previous URL no longer works." if replaced else ""
        cli = (
            f"`ritualbot alerts connect --platform {ctx.actor.platform} --channel "
            f"{ctx.channel.external_id if ctx.channel else ''}`"
        )
        return Reply(
            Message(
                text=f"This channel's alert webhook:\n{url}\nKeep it secret: anyone with it can "
                f"post alerts here.{rotated}",
                context="Point Alertmanager's webhook_configs or a Grafana contact point at "
                'it, or POST {"model", "metric", "value", "threshold"} as JSON.',
                secret="I could not reach you in a private chat, and the webhook URL is never "
                f"shown where others read it: on the bot's server, {cli} prints a new one.",
            ),
            keep=False,
        )

    async def _rule(self, ctx: CommandContext, ritual: Ritual, command: g.AlertsRuleAdd) -> Reply:
        if command.op not in OPS:
            return say(f"Unknown comparison {command.op!r}; use <, <=, >, >= or ==.")
        count = len(
            (
                await ctx.session.execute(
                    select(AlertRule.id).where(AlertRule.ritual_id == ritual.id)
                )
            ).all()
        )
        if count >= MAX_RULES:
            return say(f"This channel has {MAX_RULES} rules already, the limit.")
        rule = AlertRule(
            ritual_id=ritual.id,
            model=command.model,
            metric=command.metric,
            op=command.op,
            threshold=command.threshold,
            for_minutes=command.for_minutes,
            created_at=ctx.now,
        )
        ctx.session.add(rule)
        await ctx.session.flush()
        held = f" for {command.for_minutes} min" if command.for_minutes else ""
        return say(
            f"Rule R{rule.id}: {command.model} {command.metric} {command.op} "
            f"{command.threshold:g}{held} fires an alert.",
            public=True,
            context='Push values as {"model": …, "metric": …, "value": …} to the webhook.',
        )

    async def _oncall(self, ctx: CommandContext, ritual: Ritual, user: str | None) -> Reply:
        options = channel.of(ritual)
        if user is None:
            options.oncall = None
            channel.save(ritual, options)
            return say(
                "Nobody is on call here now; escalations go to the stand-up's lead.", public=True
            )
        member = (await find(ctx.session, ctx.workspace.id, {user}))[user]
        if member is None:
            return say(
                f"I don't know who @{user} is here.",
                context=permissions.UNKNOWN_HINT,
            )
        options.oncall = member.id
        channel.save(ritual, options)
        return say(f"{display(member)} is on call for this channel's alerts.", public=True)

    async def press(self, ctx: CommandContext, action_id: str, value: str) -> Reply | None:
        actions = {
            "alerts.ack": incidents.acknowledge,
            "alerts.task": incidents.to_backlog,
            "alerts.postmortem": incidents.postmortem,
        }
        if action_id not in actions:
            return None
        number = button_id(value)
        if number is None or not 1 <= number <= MAX_ID:
            return say("That button is out of date.", context="`alerts list` shows the alerts.")
        return await actions[action_id](ctx, number, self.peers)

    # --- the webhook -------------------------------------------------------------------

    async def opens(self, token: str) -> bool:
        async with self.rt.db.session() as session:
            return await keys.ritual_of(session, await self.key(session), token) is not None

    async def hook(self, token: str, payload: Batch) -> HookReply:
        """What a sender posted, as the webhook edge read it (plain JSON, Alertmanager or
        Grafana: the edge knows the formats, the kind only their events)."""
        for attempt in range(HOOK_ATTEMPTS):
            try:
                reply = await self._hook(token, payload)
            except IntegrityError as exc:
                # Two requests opened the same alert (or group) at once: the database
                # refused one; it goes again and finds the other's. Any other database
                # error reaches the edge, which answers 503 for the sender to retry.
                if "open_key" not in str(exc.orig) or attempt == HOOK_ATTEMPTS - 1:
                    raise
                continue
            if reply.status < 300:
                self.rt.sent_later()
            return reply
        return NOT_FOUND  # pragma: no cover

    async def _hook(self, token: str, batch: Batch) -> HookReply:
        async with self.rt.db.session() as session:
            ritual = await keys.ritual_of(session, await self.key(session), token)
            if ritual is None:
                return NOT_FOUND
            now = self.rt.clock.now()
            outcome = await Intake(session, ritual, now, self.peers).receive(batch)
        log.info(
            "alerts received",
            ritual_id=ritual.id,
            source=batch.source,
            **{k: v for k, v in outcome.body().items() if isinstance(v, int)},
        )
        return HookReply(200, outcome.body())

    # --- what kinds give each other ------------------------------------------------------

    async def origin(self, session: AsyncSession, channel: Channel, source: str) -> str | None:
        return await incidents.origin(session, channel, source)

    async def notices(
        self, session: AsyncSession, channel: Channel, since: datetime | None, now: datetime
    ) -> list[Notice]:
        return await incidents.notices(session, channel, since, now)

    async def recall(
        self, session: AsyncSession, channel: Channel, query: Recall, limit: int
    ) -> list[Recalled]:
        return await recall.recall(session, channel, query, limit)

    async def week(
        self, session: AsyncSession, channel: Channel, since: datetime, until: datetime
    ) -> list[Week]:
        return await week.week(session, channel, since, until)

    # --- schedule ---------------------------------------------------------------------

    def sweeps(self) -> list[Sweep]:
        return [Sweep("alerts.escalate", timedelta(minutes=1), self.escalate)]

    async def escalate(self) -> int:
        async with self.rt.db.session() as session:
            count = await incidents.escalate(session, self.rt.clock.now(), self.peers)
        if count:
            self.rt.sent_later()
        return count


KIND = AlertsKind

__all__ = ["KIND", "AlertsKind"]
