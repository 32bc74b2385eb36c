"""Typed commands: what the parser produces and the ritual services consume.

Each command is a frozen dataclass; a ``Usage`` is the parser's answer to input it cannot
accept, carrying what was wrong and a correct example.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Usage:
    """Input the grammar rejected: ``error`` says why, ``example`` shows a correct form."""

    error: str
    example: str
    topic: str = ""


class Command:
    """Base of every parsed command."""


# --- stand-up ---------------------------------------------------------------------------


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
    pass


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
    until: date | None = None


@dataclass(frozen=True)
class StandupBack(Command):
    pass


@dataclass(frozen=True)
class StandupBlockers(Command):
    pass


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

    question: int
    text: str


# --- retro -------------------------------------------------------------------------------


class RetroColumn(StrEnum):
    well = "well"
    improve = "improve"
    idea = "idea"
    action = "action"


@dataclass(frozen=True)
class RetroStart(Command):
    title: str = ""


@dataclass(frozen=True)
class RetroAdd(Command):
    column: RetroColumn
    text: str
    anonymous: bool = False


@dataclass(frozen=True)
class RetroVote(Command):
    item_id: int


@dataclass(frozen=True)
class RetroClose(Command):
    pass


@dataclass(frozen=True)
class RetroActions(Command):
    pass


# --- hypothesis --------------------------------------------------------------------------


class HypothesisStatus(StrEnum):
    on_track = "on-track"
    at_risk = "at-risk"
    validated = "validated"
    invalidated = "invalidated"


class HypothesisOutcome(StrEnum):
    validated = "validated"
    invalidated = "invalidated"
    pivot = "pivot"


@dataclass(frozen=True)
class HypothesisAdd(Command):
    belief: str  # "X"
    result: str  # "Y"
    metric: str
    op: str  # one of < <= > >= = ==
    target: float
    by: date | None = None
    checkin: str = "weekly"  # daily | weekly | a five-field cron expression
    owner: str | None = None  # user reference as typed, without the leading @


@dataclass(frozen=True)
class HypothesisList(Command):
    pass


@dataclass(frozen=True)
class HypothesisCheckin(Command):
    hypothesis_id: int
    status: HypothesisStatus
    metrics: tuple[tuple[str, float], ...] = ()
    text: str = ""


@dataclass(frozen=True)
class HypothesisClose(Command):
    hypothesis_id: int
    outcome: HypothesisOutcome
    text: str = ""


# --- backlog -----------------------------------------------------------------------------


BACKLOG_TYPES = ("data", "experiment", "feature", "model", "eval", "deploy", "monitor", "docs")


@dataclass(frozen=True)
class BacklogAdd(Command):
    title: str
    kind: str | None = None  # one of BACKLOG_TYPES
    priority: int | None = None  # 0..3
    owner: str | None = None


@dataclass(frozen=True)
class BacklogList(Command):
    """``scope`` is one of mine, open, done, a type, or a priority p0..p3; empty means open."""

    scope: str = "open"


@dataclass(frozen=True)
class BacklogDone(Command):
    item_id: int


@dataclass(frozen=True)
class BacklogAssign(Command):
    item_id: int
    owner: str


@dataclass(frozen=True)
class BacklogPrio(Command):
    item_id: int
    priority: int


@dataclass(frozen=True)
class BacklogSprint(Command):
    item_id: int
    sprint: str


@dataclass(frozen=True)
class BacklogExport(Command):
    pass


# --- alerts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertsConnect(Command):
    pass


@dataclass(frozen=True)
class AlertsRuleAdd(Command):
    model: str
    metric: str
    op: str
    threshold: float


@dataclass(frozen=True)
class AlertsList(Command):
    pass


@dataclass(frozen=True)
class AlertsMute(Command):
    model: str
    minutes: int


@dataclass(frozen=True)
class Help(Command):
    """``help`` or a bare ritual word: show what can be typed."""

    topic: str = ""


ParseResult = Command | Usage

__all__ = [
    "BACKLOG_TYPES",
    "WEEKDAYS",
    "AlertsConnect",
    "AlertsList",
    "AlertsMute",
    "AlertsRuleAdd",
    "BacklogAdd",
    "BacklogAssign",
    "BacklogDone",
    "BacklogExport",
    "BacklogList",
    "BacklogPrio",
    "BacklogSprint",
    "Command",
    "Help",
    "HypothesisAdd",
    "HypothesisCheckin",
    "HypothesisClose",
    "HypothesisList",
    "HypothesisOutcome",
    "HypothesisStatus",
    "ParseResult",
    "RetroActions",
    "RetroAdd",
    "RetroClose",
    "RetroColumn",
    "RetroStart",
    "RetroVote",
    "StandupAway",
    "StandupBack",
    "StandupBlockers",
    "StandupEdit",
    "StandupExport",
    "StandupJoin",
    "StandupLeave",
    "StandupNow",
    "StandupPause",
    "StandupQuestions",
    "StandupReport",
    "StandupResolve",
    "StandupResume",
    "StandupSetup",
    "StandupSkip",
    "StandupStatus",
    "Usage",
]
