"""How hypotheses read in chat: one line, the canvas, a text sparkline of the series."""

from __future__ import annotations

from datetime import date

from rituals.hypothesis.cadence import describe
from rituals.hypothesis.models import Hypothesis
from rituals.hypothesis.store import OPEN_STATES

BARS = "▁▂▃▄▅▆▇█"
NO_OWNER = "nobody (they left)"
STATUS_LABEL = {
    "on-track": "on track",
    "at-risk": "at risk",
    "validated": "looks validated",
    "invalidated": "looks invalidated",
    "": "no check-in yet",
}


def number(value: float) -> str:
    return f"{value:.6g}"


def goal(h: Hypothesis) -> str:
    return f"{h.metric} {h.op} {number(h.target)}"


def sparkline(values: list[float], target: float | None = None) -> str:
    """The values as bars scaled between their lowest and highest (and the target's)."""
    if not values:
        return "—"
    scale = [*values, *([target] if target is not None else [])]
    low, high = min(scale), max(scale)
    if high == low:
        return BARS[len(BARS) // 2] * len(values)
    top = len(BARS) - 1
    return "".join(BARS[round((v - low) / (high - low) * top)] for v in values)


def days_left(h: Hypothesis, today: date) -> str:
    if h.deadline is None:
        return "no deadline"
    left = (h.deadline - today).days
    if left < 0:
        return f"overdue by {-left} day{'s' if left != -1 else ''}"
    if left == 0:
        return "due today"
    return f"{left} day{'s' if left != 1 else ''} left"


def line(h: Hypothesis, today: date) -> str:
    """An open one reads with its last check-in and time left; a closed one with its
    outcome and what was learned, since neither a check-in nor a deadline is due any more."""
    last = f"last {number(h.recent[-1])}" if h.recent else "no values yet"
    series = f"{goal(h)} {sparkline(h.recent, h.target)} {last}"
    if h.state not in OPEN_STATES:
        learned = f" · learned: {short(h.outcome_note, 60)}" if h.outcome_note else ""
        return f"#{h.number} {h.state} · {series}{learned} — {short(h.belief)}"
    return (
        f"#{h.number} {h.state} · {STATUS_LABEL.get(h.status, h.status)} · "
        f"{series} · {days_left(h, today)} — {short(h.belief)}"
    )


def short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def canvas(h: Hypothesis, owner: str) -> str:
    baseline = f" (baseline {number(h.baseline)})" if h.baseline is not None else ""
    model = f" on model {h.model}" if h.model else ""
    deadline = h.deadline.isoformat() if h.deadline else "none"
    return (
        f"We believe {h.belief} will result in {h.result}; "
        f"we'll know when {goal(h)}{baseline}{model}.\n"
        f"Owner {owner} · by {deadline} · check-ins {describe(h.cadence)}"
    )
