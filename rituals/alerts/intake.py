"""A webhook's alerts into the channel's incidents, in the request's unit of work.

One open alert per identity and one open group per group key (their ``open_key`` is
unique); an event whose digest equals the alert's last one is a retry and changes nothing.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals import outbound
from rituals.alerts import cards, channel
from rituals.alerts.models import Alert, AlertGroup, AlertRule
from rituals.alerts.post import publish
from rituals.kinds import Handoff, Peers
from rituals.messages import Button, Message
from rituals.signals import FIRING, RESOLVED, AlertEvent, Batch, MetricValue, digest
from rituals.telemetry import ALERTS_DEDUPLICATED, ALERTS_RECEIVED
from rituals.where import where_of
from storage.models import Ritual

OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "=": operator.eq,
}
CRITICAL = ("critical", "page", "p0", "disaster")


def open_key(ritual_id: int, identity: str) -> str:
    return digest(ritual_id, identity)


@dataclass
class Outcome:
    """What one request changed, as the webhook's answer reports it."""

    received: int = 0
    new: int = 0
    updated: int = 0
    resolved: int = 0
    duplicates: int = 0
    unknown_resolved: int = 0
    muted: int = 0
    metrics: int = 0
    posted: int = 0
    handed_over: int = 0  # how many values another ritual took, never which, to the sender
    ids: list[int] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "received": self.received,
            "stored": self.new + self.updated + self.resolved,
            "new": self.new,
            "updated": self.updated,
            "resolved": self.resolved,
            "duplicates": self.duplicates,
        }
        for key in ("unknown_resolved", "muted", "metrics", "posted", "handed_over"):
            if value := getattr(self, key):
                body[key] = value
        if self.ids:
            body["alerts"] = sorted(set(self.ids))
        return body


class Intake:
    def __init__(self, session: AsyncSession, ritual: Ritual, now: datetime, peers: Peers):
        self.session = session
        self.ritual = ritual
        self.now = now
        self.peers = peers
        self.options = channel.of(ritual)
        self.out = Outcome()
        self.changed: dict[int, AlertGroup] = {}
        self.offers: list[Alert] = []
        self.known: dict[str, Alert] = {}

    async def receive(self, batch: Batch) -> Outcome:
        events = list(batch.alerts)
        if batch.alerts:
            ALERTS_RECEIVED.labels(batch.source).inc(len(batch.alerts))
        for metric in batch.metrics:
            self.out.metrics += 1
            events.extend(await self.judge(metric))
            await self.hand_metric(metric)
        await self.prefetch(events)
        for event in events:
            await self.one(event)
        for group in sorted(self.changed.values(), key=lambda g: g.id):
            if await publish(self.session, group, self.now):
                self.out.posted += 1
        for alert in self.offers:
            await self.offer_postmortem(alert)
        return self.out

    async def one(self, event: AlertEvent) -> None:
        self.out.received += 1
        key = open_key(self.ritual.id, event.identity)
        alert = self.known.get(key)
        if alert is not None and alert.open_key != key:
            alert = None  # resolved earlier in this same request
        if alert is not None and alert.last_event == event.event_key:
            self.duplicate()
            return
        if alert is not None:
            # News about it: read it again under its lock, a concurrent retry may be first.
            alert = await self.open_alert(key, lock=True)
            if alert is not None and alert.last_event == event.event_key:
                self.duplicate()
                return
        if event.status == RESOLVED:
            if alert is None:
                self.out.unknown_resolved += 1
                return
            alert.status = RESOLVED
            alert.open_key = None
            alert.resolved_at = self.now
            alert.last_seen_at = self.now
            alert.last_event = event.event_key
            if event.value is not None:
                alert.value = event.value
            self.out.resolved += 1
            await self.touched(alert)
            if alert.severity.lower() in CRITICAL and not alert.muted:
                self.offers.append(alert)
            return
        if alert is not None:
            alert.count += 1
            alert.value = event.value if event.value is not None else alert.value
            alert.summary = event.summary or alert.summary
            alert.severity = event.severity
            alert.last_seen_at = self.now
            alert.last_event = event.event_key
            self.out.updated += 1
            await self.touched(alert)
            return
        muted = self.options.muted_until(event.model, self.now) is not None
        group = await self.open_group(event)
        alert = Alert(
            ritual_id=self.ritual.id,
            group_id=group.id,
            identity=digest(event.identity),
            open_key=key,
            source=event.source,
            name=event.name[:300],
            model=event.model[:200],
            metric=event.metric[:200],
            severity=event.severity[:32],
            summary=event.summary[:2000],
            labels=dict(event.labels),
            url=event.url[:2000],
            value=event.value,
            fired_value=event.value,
            threshold=event.threshold,
            status=FIRING,
            muted=muted,
            count=1,
            last_event=event.event_key,
            fired_at=self.now,
            last_seen_at=self.now,
        )
        self.session.add(alert)
        await self.session.flush()
        self.known[key] = alert
        self.out.new += 1
        self.out.muted += muted
        await self.touched(alert)

    async def prefetch(self, events: list[AlertEvent]) -> None:
        """The open alerts a request names, in one query: in a storm most are repeats."""
        keys = list({open_key(self.ritual.id, e.identity) for e in events})
        for start in range(0, len(keys), 500):
            rows = await self.session.execute(
                select(Alert).where(Alert.open_key.in_(keys[start : start + 500]))
            )
            self.known.update((a.open_key, a) for a in rows.scalars() if a.open_key)

    async def open_alert(self, key: str, *, lock: bool) -> Alert | None:
        query = select(Alert).where(Alert.open_key == key)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(query)).scalar_one_or_none()

    def duplicate(self) -> None:
        self.out.duplicates += 1
        ALERTS_DEDUPLICATED.inc()

    async def touched(self, alert: Alert) -> None:
        self.out.ids.append(alert.id)
        if alert.group_id not in self.changed:
            self.changed[alert.group_id] = await self.session.get_one(AlertGroup, alert.group_id)

    async def open_group(self, event: AlertEvent) -> AlertGroup:
        key = open_key(self.ritual.id, "group:" + event.group_key)
        group = (
            await self.session.execute(
                select(AlertGroup)
                .where(AlertGroup.open_key == key)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if group is None:
            group = AlertGroup(
                ritual_id=self.ritual.id,
                open_key=key,
                title=event.group_title[:300] or event.name[:300],
                opened_at=self.now,
            )
            self.session.add(group)
            await self.session.flush()
        return group

    async def judge(self, metric: MetricValue) -> list[AlertEvent]:
        """The channel's rules on one raw value: each crossing its threshold (for as long
        as it asks) fires, each no longer crossing it resolves what it fired."""
        rules = await self.session.execute(
            select(AlertRule)
            .where(
                AlertRule.ritual_id == self.ritual.id,
                AlertRule.model == metric.model,
                AlertRule.metric == metric.metric,
            )
            .order_by(AlertRule.id)
            .with_for_update()
        )
        events = []
        for rule in rules.scalars():
            identity = f"rule:{rule.id}"
            common = {
                "identity": identity,
                "name": f"{rule.model} {rule.metric} {rule.op} {rule.threshold:g}",
                "source": "rule",
                "group_key": f"model:{rule.model}",
                "group_title": f"{rule.model}",
                "model": rule.model,
                "metric": rule.metric,
                "value": metric.value,
                "threshold": rule.threshold,
                "labels": metric.labels,
            }
            if OPS[rule.op](metric.value, rule.threshold):
                if rule.breach_since is None:
                    rule.breach_since = self.now
                if self.now - rule.breach_since >= timedelta(minutes=rule.for_minutes):
                    started = rule.breach_since.isoformat()
                    events.append(AlertEvent(status=FIRING, started=started, **common))
            else:
                rule.breach_since = None
                key = open_key(self.ritual.id, identity)
                if await self.session.scalar(select(Alert.id).where(Alert.open_key == key)):
                    events.append(AlertEvent(status=RESOLVED, **common))
        return events

    async def hand_metric(self, metric: MetricValue) -> None:
        """A raw value also goes to whichever ritual follows metrics (hypotheses): the
        same value received at another time is another point, so the time is in the source."""
        if self.peers.taker("metric") is None:
            return
        handoff = Handoff(
            "metric",
            f"{metric.model} {metric.metric} = {metric.value:g}",
            source=f"alerts:{self.ritual.id}:metric:"
            + digest(
                metric.model,
                metric.metric,
                metric.value,
                sorted(metric.labels.items()),
                self.now.isoformat(),
            ),
            label=f"{metric.model} {metric.metric}",
            details={
                "model": metric.model,
                "metric": metric.metric,
                "value": metric.value,
                "labels": dict(metric.labels),
                "at": self.now.isoformat(),
            },
        )
        channel_row = self.ritual.channel
        taken = await self.peers.take(self.session, channel_row, handoff, self.now)
        if taken is not None and taken.text:
            self.out.handed_over += 1

    async def offer_postmortem(self, alert: Alert) -> None:
        """A critical alert resolved: offer, in its thread, a post-mortem the team opens."""
        if self.peers.taker("postmortem") is None:
            return
        group = await self.session.get_one(AlertGroup, alert.group_id)
        where = await where_of(self.session, self.ritual.channel_id)
        message = Message(
            text=f"{cards.headline(alert)} was critical and is resolved after "
            f"{cards.duration(self.now - alert.fired_at)}.",
            buttons=[
                Button(
                    label="Open a post-mortem", action_id="alerts.postmortem", value=str(alert.id)
                )
            ],
            context="A retro in the post-mortem format, opened with this alert's timeline.",
        )
        await outbound.queue(
            self.session,
            where.post(thread_of=group.outbox_id, dedup_key=f"alert-postmortem:{alert.id}"),
            message,
            self.now,
        )
