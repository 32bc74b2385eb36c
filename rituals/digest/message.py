"""The digest as it is posted before (or without) the model's version: each ritual's week
under its heading, in plain lines a reader outside the team can follow, and the material the
model is shown to write its version from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from rituals.kinds import Week
from rituals.llm.written import Material, section_text
from rituals.messages import Message, Section
from rituals.schedule import local_date

CONTEXT = "What this channel's rituals did in the week, for readers outside the team"


def period(since: datetime, until: datetime, tz: str) -> str:
    """``Mon 16 Nov – Sun 22 Nov 2026``: the days covered, in the digest's zone."""
    first, last = local_date(since, tz), local_date(until - timedelta(seconds=1), tz)
    return f"{first:%a %d %b} – {last:%a %d %b %Y}"


def plain(channel: str, parts: Sequence[Week], covered: str) -> Message:
    title = f"Weekly digest of #{channel}, {covered}"
    if not parts:
        return Message(
            text=f"{title}: no ritual runs in this channel yet.",
            context="`help` shows how to start one.",
        )
    return Message(
        text=title,
        sections=[
            Section(text=section_text(f"*{part.heading}*", [f"• {line}" for line in part.lines]))
            for part in parts
        ],
        context=f"{CONTEXT} · `digest off` stops it",
    )


def material(channel: str, parts: Sequence[Week], covered: str) -> Material:
    return {
        "channel": channel,
        "period": covered,
        "parts": [
            {
                "id": part.key,
                "heading": part.heading,
                "lines": list(part.lines),
                "counts": dict(part.counts),
            }
            for part in parts
        ],
    }
