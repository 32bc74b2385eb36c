"""The stand-up summary: a digest of the day, written up by a pluggable summarizer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from rituals.kinds import Notice
from rituals.messages import Button, ButtonStyle, Field_, Message, Section, plural


@dataclass(frozen=True)
class PersonAnswers:
    name: str
    answers: list[tuple[str, str]]
    late: bool = False


@dataclass(frozen=True)
class OpenBlocker:
    id: int
    owner: str
    text: str
    age_days: int
    unblocker: str | None = None
    new_today: bool = False


@dataclass(frozen=True)
class StandupDigest:
    """Everything a summary may say about one stand-up, already resolved to names."""

    channel: str
    day: date
    answered: list[PersonAnswers]
    missing: list[str]
    away: list[str]
    blockers: list[OpenBlocker]
    # What other kinds add: alerts still firing, hypotheses past their deadline.
    notices: list[Notice] = field(default_factory=list)
    # Asked, but stopped today's run with ``cancel``: counted as not answering.
    stopped: list[str] = field(default_factory=list)


class Summarizer(Protocol):
    """Writes the headline of the summary as it goes out at its time, inside the closing
    unit of work, so it never calls out; the model's version follows later, in place
    (`rituals.standup.written`)."""

    async def headline(self, digest: StandupDigest) -> str: ...


class PlainSummarizer:
    """Deterministic headline: who answered and how many blockers are open."""

    async def headline(self, digest: StandupDigest) -> str:
        total = len(digest.answered) + len(digest.missing) + len(digest.stopped)
        parts = [f"{len(digest.answered)}/{total} answered"]
        if digest.blockers:
            fresh = sum(1 for b in digest.blockers if b.new_today)
            parts.append(
                plural(len(digest.blockers), "open blocker") + (f" ({fresh} new)" if fresh else "")
            )
        else:
            parts.append("no blockers")
        return ", ".join(parts)


def age_label(days: int) -> str:
    if days <= 0:
        return "new today"
    return f"{plural(days, 'day')} old"


def blocker_line(blocker: OpenBlocker) -> str:
    who = f" — unblocker: {blocker.unblocker}" if blocker.unblocker else ""
    return f"#{blocker.id} {blocker.owner}: {blocker.text} ({age_label(blocker.age_days)}){who}"


def blockers_section(blockers: list[OpenBlocker]) -> Section:
    if not blockers:
        return Section(text="*Blockers*\nNone open.")
    return Section(text="*Blockers*\n" + "\n".join(f"• {blocker_line(b)}" for b in blockers))


def short_label(question: str) -> str:
    """A question as a field label: its hint in brackets dropped."""
    return re.sub(r"\s*\([^()]*\)\s*$", "", question).strip() or question


def person_section(person: PersonAnswers) -> Section:
    title = f"*{person.name}*" + (" (late)" if person.late else "")
    return Section(
        text=title,
        fields=[Field_(label=short_label(q), value=answer) for q, answer in person.answers],
    )


def summary_message(digest: StandupDigest, headline: str, *, full: bool) -> Message:
    """The channel post; in short form the answers go in its thread instead."""
    sections: list[Section] = []
    if full:
        sections.extend(person_section(p) for p in digest.answered)
    sections.append(blockers_section(digest.blockers))
    sections.extend(
        Section(text=f"*{n.heading}*\n" + "\n".join(f"• {line}" for line in n.lines))
        for n in digest.notices
        if n.lines
    )
    notes = []
    if digest.missing:
        notes.append("No answer yet: " + ", ".join(digest.missing))
    if digest.stopped:
        notes.append("Stopped today: " + ", ".join(digest.stopped))
    if digest.away:
        notes.append("Away: " + ", ".join(digest.away))
    if not full and digest.answered:
        notes.append("Answers are in the thread.")
    buttons = [
        Button(
            label=f"Resolve #{b.id}",
            action_id="standup.resolve",
            value=str(b.id),
            style=ButtonStyle.primary,
        )
        for b in digest.blockers[:5]
    ]
    return Message(
        text=f"Stand-up #{digest.channel} — {digest.day:%a %d %b}: {headline}",
        sections=sections,
        buttons=buttons,
        context=" · ".join(notes),
    )


def thread_message(person: PersonAnswers) -> Message:
    section = person_section(person)
    return Message(text=section.text, sections=[Section(fields=section.fields)])
