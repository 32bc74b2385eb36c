"""How alerts look in the channel: one message per group, updated in place, listing its
alerts with their state; and the lines other rituals show about them."""

from __future__ import annotations

from datetime import datetime, timedelta

from rituals.alerts.models import Alert, AlertGroup
from rituals.messages import Button, ButtonStyle, Message, Section, plural

SECTION_LIMIT = 2900
ACK_BUTTONS = 5
SHOWN_LABELS = 4
ICONS = {"firing": "🔥", "resolved": "✅"}


def duration(span: timedelta) -> str:
    """``42 min``, ``3 h 5 min``, ``2 d 4 h``: how long an alert lasted, as people say it."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def headline(alert: Alert, *, fired: bool = False) -> str:
    """``#3 churn auc 0.71 (threshold 0.8)`` or ``#4 HighLatency``; with ``fired``, the
    value it fired at rather than the latest."""
    what = alert.name
    value = alert.fired_value if fired and alert.fired_value is not None else alert.value
    if value is not None:
        what += f" = {_number(value)}"
        if alert.threshold is not None:
            what += f" (threshold {_number(alert.threshold)})"
    return f"#{alert.id} {what}"


def state(alert: Alert, names: dict[int, str], now: datetime) -> str:
    if alert.status == "resolved" and alert.resolved_at is not None:
        said = f"resolved after {duration(alert.resolved_at - alert.fired_at)}"
    else:
        said = f"firing since {alert.fired_at:%H:%M} UTC"
        if alert.count > 1:
            said += f", {alert.count}×, last {alert.last_seen_at:%H:%M}"
    if alert.acked_at is not None:
        said += f" · acknowledged by {names.get(alert.acked_by or 0, 'someone')}"
    if alert.muted:
        said += " · muted"
    return said


def line(alert: Alert, names: dict[int, str], now: datetime) -> str:
    icon = ICONS.get(alert.status, "•")
    text = f"{icon} *{headline(alert)}* [{alert.severity}] — {state(alert, names, now)}"
    labels = [f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname"]
    if labels:
        text += "\n    " + ", ".join(labels[:SHOWN_LABELS]) + (" …" if len(labels) > 4 else "")
    if alert.summary:
        text += f"\n    {alert.summary[:200]}"
    return text


def group_message(
    group: AlertGroup, alerts: list[Alert], names: dict[int, str], now: datetime
) -> Message:
    """The group as the channel shows it: firing first, then resolved, bounded in size."""
    firing = [a for a in alerts if a.status == "firing"]
    ordered = firing + [a for a in alerts if a.status != "firing"]
    text = ""
    shown = 0
    for alert in ordered:
        entry = line(alert, names, now)
        if len(text) + len(entry) + 40 > SECTION_LIMIT:
            break
        text += ("\n" if text else "") + entry
        shown += 1
    if shown < len(ordered):
        text += f"\n… and {len(ordered) - shown} more (`alerts list`)"
    unacked = [a for a in firing if a.acked_at is None and not a.muted]
    buttons = [
        Button(
            label=f"Acknowledge #{a.id}" if len(firing) > 1 else "Acknowledge",
            action_id="alerts.ack",
            value=str(a.id),
            style=ButtonStyle.primary,
        )
        for a in unacked[:ACK_BUTTONS]
    ]
    status = f"{len(firing)} firing" if firing else "all resolved"
    links = sorted({a.url for a in alerts if a.url})[:1]
    context = f"{plural(len(alerts), 'alert')}: {status}"
    if links:
        context += f" · source: {links[0]}"
    if firing:
        context += " · `alerts ack ID` to take one"
    return Message(
        text=f"Alert: {group.title}" + (" (resolved)" if not firing else ""),
        sections=[Section(text=text)],
        buttons=buttons,
        context=context,
    )


def timeline(alert: Alert, acked_by: str | None) -> list[str]:
    """What happened, in order, as a post-mortem starts from it."""
    steps = [f"{alert.fired_at:%Y-%m-%d %H:%M} UTC fired: {headline(alert, fired=True)}"]
    if alert.acked_at is not None:
        steps.append(f"{alert.acked_at:%Y-%m-%d %H:%M} UTC acknowledged by {acked_by or 'someone'}")
    if alert.escalated_at is not None:
        steps.append(f"{alert.escalated_at:%Y-%m-%d %H:%M} UTC escalated")
    if alert.resolved_at is not None:
        last = f" at {_number(alert.value)}" if alert.value != alert.fired_value else ""
        steps.append(
            f"{alert.resolved_at:%Y-%m-%d %H:%M} UTC resolved after "
            f"{duration(alert.resolved_at - alert.fired_at)}{last}"
        )
    return steps
