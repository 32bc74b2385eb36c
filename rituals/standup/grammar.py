"""The `standup` words: typed commands and how their arguments parse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import ClassVar

from rituals.commands import Command, Verb
from rituals.commands import tokens as t

WORD = "standup"


@dataclass(frozen=True)
class StandupSetup(Command):
    """Fields left ``None`` keep their current value; all ``None`` asks for the form."""

    at: time | None = None
    days: tuple[int, ...] | None = None  # ISO weekday numbers 1..7
    tz: str | None = None
    summary: time | None = None
    holidays: str | None = None  # ISO country code, or "none"
    summary_form: str | None = None  # "short" (answers in a thread) or "full"
    escalate_after: int | None = None  # days a blocker may stay open before escalation

    @property
    def is_empty(self) -> bool:
        values = (self.at, self.days, self.tz, self.summary, self.holidays)
        return all(v is None for v in (*values, self.summary_form, self.escalate_after))


@dataclass(frozen=True)
class StandupQuestions(Command):
    questions: tuple[str, ...]


@dataclass(frozen=True)
class StandupJoin(Command):
    pass


@dataclass(frozen=True)
class StandupLeave(Command):
    pass


@dataclass(frozen=True)
class StandupNow(Command):
    pass


@dataclass(frozen=True)
class StandupStatus(Command):
    mid_answer: ClassVar[bool] = True
    reads_only: ClassVar[bool] = True


@dataclass(frozen=True)
class StandupSkip(Command):
    day: date


@dataclass(frozen=True)
class StandupPause(Command):
    pass


@dataclass(frozen=True)
class StandupResume(Command):
    pass


@dataclass(frozen=True)
class StandupAway(Command):
    mid_answer: ClassVar[bool] = True
    until: date | None = None


@dataclass(frozen=True)
class StandupBack(Command):
    mid_answer: ClassVar[bool] = True


@dataclass(frozen=True)
class StandupBlockers(Command):
    reads_only: ClassVar[bool] = True


@dataclass(frozen=True)
class StandupResolve(Command):
    blocker_id: int


@dataclass(frozen=True)
class StandupReport(Command):
    days: int = 7


@dataclass(frozen=True)
class StandupExport(Command):
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class StandupEdit(Command):
    """Replace one's own answer to question ``question`` (1-based) of the open stand-up."""

    mid_answer: ClassVar[bool] = True
    question: int
    text: str


@dataclass(frozen=True)
class StandupLead(Command):
    """Hand the lead on to another person."""

    user: str


@dataclass(frozen=True)
class StandupColeads(Command):
    """Name the co-leads (none clears them): they may change the stand-up as the lead may."""

    users: tuple[str, ...]


def _coleads(args: list[str], rest: str) -> Command:
    return StandupColeads(t.users_or_none(args))


def _summary_form(word: str) -> str:
    """How the summary is laid out: short with answers in its thread, or all in one post."""
    if word.lower() not in ("short", "full"):
        raise t.Reject(f"format is short or full, not {t.quote(word)}")
    return word.lower()


def _escalate_days(word: str) -> int:
    """Days a blocker may stay open before it is escalated: ``escalate 3``."""
    if not word.isdigit() or not 1 <= int(word) <= 30:
        raise t.Reject(f"escalate takes a number of days from 1 to 30, not {t.quote(word)}")
    return int(word)


SETUP_OPTIONS = ("at", "days", "tz", "summary", "holidays", "format", "escalate")


def _setup(args: list[str], rest: str) -> Command:
    opts = t.options(args, SETUP_OPTIONS)
    return StandupSetup(
        at=t.maybe(opts.get("at"), t.clock_time),
        days=t.maybe(opts.get("days"), t.weekdays),
        tz=t.maybe(opts.get("tz"), t.timezone),
        summary=t.maybe(opts.get("summary"), t.clock_time),
        holidays=t.maybe(opts.get("holidays"), t.holidays),
        summary_form=t.maybe(opts.get("format"), _summary_form),
        escalate_after=t.maybe(opts.get("escalate"), _escalate_days),
    )


def _questions(args: list[str], rest: str) -> Command:
    questions = rest.split("|")
    if len(questions) > 10:
        raise t.Reject(f"at most 10 questions, got {len(questions)}")
    return StandupQuestions(
        tuple(t.free_text(q, f"question {n}", 300) for n, q in enumerate(questions, 1))
    )


def _away(args: list[str], rest: str) -> Command:
    return StandupAway(t.maybe(t.options(args, ("until",)).get("until"), t.iso_date))


def _export(args: list[str], rest: str) -> Command:
    dates = [t.iso_date(token) for token in t.at_most(args, 2)]
    if len(dates) == 2 and dates[0] > dates[1]:
        raise t.Reject(f"FROM {dates[0]} is after TO {dates[1]}")
    return StandupExport(*dates)


def _edit(args: list[str], rest: str) -> Command:
    t.require(args, "question number", "text")
    return StandupEdit(
        t.integer(args[0], 1, 10, "question number"), t.free_text(t.drop(rest, 1), "text", 3000)
    )


VERBS = {
    "setup": Verb(_setup, "standup setup at 9:30 days mon-fri tz Europe/Berlin"),
    "questions": Verb(_questions, "standup questions Yesterday? | Today? | Blockers?"),
    "join": Verb(t.fixed(StandupJoin), "standup join"),
    "leave": Verb(t.fixed(StandupLeave), "standup leave"),
    "now": Verb(t.fixed(StandupNow), "standup now"),
    "status": Verb(t.fixed(StandupStatus), "standup status"),
    "pause": Verb(t.fixed(StandupPause), "standup pause"),
    "resume": Verb(t.fixed(StandupResume), "standup resume"),
    "back": Verb(t.fixed(StandupBack), "standup back"),
    "blockers": Verb(t.fixed(StandupBlockers), "standup blockers"),
    "skip": Verb(t.fixed(StandupSkip, t.iso_date), "standup skip 2030-12-24"),
    "away": Verb(_away, "standup away until 2030-08-15"),
    "resolve": Verb(t.fixed(StandupResolve, t.ident), "standup resolve 12"),
    "report": Verb(t.fixed(StandupReport, t.days_back, optional=1), "standup report 14"),
    "export": Verb(_export, "standup export 2025-01-01 2025-03-31"),
    "edit": Verb(_edit, "standup edit 2 Finished the eval harness"),
    "lead": Verb(t.fixed(StandupLead, t.user), "standup lead @ana"),
    "coleads": Verb(_coleads, "standup coleads @ana @omar"),
}
