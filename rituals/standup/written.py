"""The stand-up summary as the model writes it: concrete points, each naming who said it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from rituals.llm.model import estimate_tokens
from rituals.llm.written import Material, Written, register, section_text, who_problems
from rituals.messages import Message, Section
from rituals.standup.summary import StandupDigest, short_label


class Point(BaseModel):
    text: str = Field(max_length=500)
    who: list[str] = Field(max_length=20)


class BlockerNote(Point):
    unblocker: str | None = Field(default=None, max_length=120)


class StandupWritten(BaseModel):
    headline: str = Field(max_length=240)
    blockers: list[BlockerNote] = Field(default_factory=list, max_length=10)
    points: list[Point] = Field(default_factory=list, max_length=8)
    themes: list[Point] = Field(default_factory=list, max_length=5)


EARLIER_DAYS = 4


def _people(digest: StandupDigest) -> list[dict[str, Any]]:
    return [
        {
            "name": p.name,
            "answers": [{"question": short_label(q), "answer": a} for q, a in p.answers],
        }
        for p in digest.answered
    ]


def material(
    digest: StandupDigest, earlier: Sequence[StandupDigest] = (), *, budget: int = 0
) -> Material:
    """What the model sees of one stand-up: answers by name, the ledger, other kinds' lines,
    and as many earlier days (newest first) as fit in ``budget`` tokens, for themes."""
    days: list[dict[str, Any]] = []
    used = 0
    for before in earlier:
        day = {"day": before.day.isoformat(), "people": _people(before)}
        used += estimate_tokens(day)
        if used > budget:
            break
        days.append(day)
    return {
        "earlier_days": days,
        "channel": digest.channel,
        "day": digest.day.isoformat(),
        "blockers": [
            {
                "id": b.id,
                "owner": b.owner,
                "text": b.text,
                "age_days": b.age_days,
                "unblocker": b.unblocker,
            }
            for b in digest.blockers
        ],
        "notices": [{"heading": n.heading, "lines": list(n.lines)} for n in digest.notices],
        "no_answer": list(digest.missing),
        "people": _people(digest),
    }


def _speakers(material: Material) -> list[str]:
    earlier = [p["name"] for d in material.get("earlier_days", []) for p in d["people"]]
    today = [p["name"] for p in material.get("people", [])]
    return today + earlier + [b["owner"] for b in material.get("blockers", [])]


def _line(point: Point, extra: str = "") -> str:
    return f"• {point.text} — {', '.join(point.who)}{extra}"


class StandupSummary(Written[StandupWritten]):
    name = "standup"
    output = StandupWritten
    chunked = "people"

    def check(self, output: StandupWritten, material: Material) -> list[str]:
        points = [*output.blockers, *output.points, *output.themes]
        return who_problems(((p.text, p.who) for p in points), _speakers(material))

    def render(self, plain: Message, output: StandupWritten, material: Material) -> Message:
        sections = []
        if output.blockers:
            lines = [
                _line(b, f" (unblocker: {b.unblocker})" if b.unblocker else "")
                for b in output.blockers
            ]
            sections.append(Section(text=section_text("*Blocked*", lines)))
        if output.points:
            sections.append(Section(text=section_text("*In short*", [*map(_line, output.points)])))
        if output.themes:
            sections.append(Section(text=section_text("*Themes*", [*map(_line, output.themes)])))
        day = date.fromisoformat(material["day"])
        return plain.model_copy(
            update={
                "text": f"Stand-up #{material['channel']} — {day:%a %d %b}: {output.headline}",
                "sections": [*sections, *plain.sections],
            }
        )


SUMMARY: Any = register(StandupSummary())
