"""The `hypothesis` words: the canvas sentence, check-ins and outcomes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum
from typing import ClassVar

from rituals.commands import Command, Verb
from rituals.commands import tokens as t
from rituals.commands.model import WEEKDAYS

WORD = "hypothesis"


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
    checkin: str = "weekly"  # daily | weekly | weekly DAY | a five-field cron expression
    owner: str | None = None  # user reference as typed, without the leading @
    baseline: float | None = None
    model: str | None = None  # the monitored model whose metric values join the series


class HypothesisScope(StrEnum):
    open = "open"
    mine = "mine"
    all = "all"


@dataclass(frozen=True)
class HypothesisList(Command):
    reads_only: ClassVar[bool] = True

    scope: HypothesisScope = HypothesisScope.open


@dataclass(frozen=True)
class HypothesisShow(Command):
    reads_only: ClassVar[bool] = True

    hypothesis_id: int


@dataclass(frozen=True)
class HypothesisDigest(Command):
    """``digest`` alone shows it now; with a day and time it is set; ``off`` stops it."""

    weekday: int | None = None
    at: time | None = None
    off: bool = False


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


@dataclass(frozen=True)
class HypothesisLead(Command):
    """Hand the channel's hypotheses on to another lead."""

    user: str


@dataclass(frozen=True)
class HypothesisColeads(Command):
    """Who else may change anyone's hypotheses in the channel (none clears them)."""

    users: tuple[str, ...]


_KNOW_WHEN = r"we(?:'ll|’ll| will) know when "
_SENTENCE = re.compile(
    r"we believe (?P<belief>.+?) will result in (?P<result>.+?)(?:[;,.] ?| )"
    rf"{_KNOW_WHEN}(?P<cond>.+)",
    re.IGNORECASE,
)
_PHRASES = (
    ("'We believe'", "^we believe "),
    ("'will result in'", " will result in "),
    ('"we\'ll know when"', _KNOW_WHEN),
)
EXAMPLE = (
    "hypothesis add We believe dedup will result in cleaner labels; "
    "we'll know when precision >= 0.9 by 2030-09-30 checkin weekly owner @ana"
)


def _add(args: list[str], rest: str) -> Command:
    sentence = " ".join(args)
    match = _SENTENCE.fullmatch(sentence)
    if match is None:
        for phrase, pattern in _PHRASES:
            if not re.search(pattern, sentence, re.IGNORECASE):
                raise t.Reject(f"missing {phrase}")
        raise t.Reject("expected: We believe X will result in Y; we'll know when METRIC OP TARGET")
    metric, op, target, tail = t.condition(match["cond"])
    opts = t.options(tail.split(), ("by", "checkin", "owner", "baseline", "model"))
    return HypothesisAdd(
        belief=t.free_text(match["belief"], "belief", 1000),
        result=t.free_text(match["result"], "result", 1000),
        metric=metric_name(metric),
        op=op,
        target=target,
        by=t.maybe(opts.get("by"), t.iso_date),
        checkin=cadence(opts.get("checkin", "weekly")),
        owner=t.maybe(opts.get("owner"), t.user),
        baseline=t.maybe(opts.get("baseline"), t.number),
        model=t.maybe(opts.get("model"), model),
    )


def metric_name(text: str) -> str:
    """One word, as check-ins name it (``METRIC=VALUE``) and monitoring sends it; a name of
    several words could be written down but never given a value."""
    name = t.free_text(text, "metric", 100)
    if len(name.split()) > 1:
        joined = "_".join(name.split())
        raise t.Reject(f"the metric is one word, like {t.quote(joined)}; not {t.quote(name)}")
    return name


def model(text: str) -> str:
    name = t.free_text(text, "model", 100)
    if " " in name:
        raise t.Reject(f"model is one word like ranker-v2, not {t.quote(name)}")
    return name


def cadence(value: str) -> str:
    """daily, weekly (on Mondays), ``weekly fri`` / ``weekly on fri``, or a cron expression."""
    words = value.lower().split()
    if words and words[0] == "weekly" and len(words) > 1:
        day = words[-1] if len(words) == 2 or (words[1] == "on" and len(words) == 3) else ""
        return f"weekly {WEEKDAYS[t.weekday(day) - 1]}"
    return t.checkin(value)


def _list(args: list[str], rest: str) -> Command:
    t.at_most(args, 1)
    if not args:
        return HypothesisList()
    return HypothesisList(t.choice(HypothesisScope, args[0], "list"))


def _digest(args: list[str], rest: str) -> Command:
    if not args:
        return HypothesisDigest()
    if len(args) == 1 and args[0].lower() == "off":
        return HypothesisDigest(off=True)
    t.require(args, "day", "time")
    t.at_most(args, 2)
    return HypothesisDigest(t.weekday(args[0].lower()), t.clock_time(args[1]))


def _checkin(args: list[str], rest: str) -> Command:
    t.require(args, "id", "status")
    hypothesis_id, status = t.ident(args[0]), t.choice(HypothesisStatus, args[1], "status")
    metrics: list[tuple[str, float]] = []
    for token in args[2:]:
        name, equals, value = token.partition("=")
        if not equals:
            break
        metrics.append((t.free_text(name, "metric name", 100), t.number(value)))
    note = t.free_text(t.drop(rest, 2 + len(metrics)), "note", 1000, required=not metrics)
    return HypothesisCheckin(hypothesis_id, status, tuple(metrics), note)


def _close(args: list[str], rest: str) -> Command:
    t.require(args, "id", "outcome")
    outcome = t.choice(HypothesisOutcome, args[1], "outcome")
    note = t.free_text(t.drop(rest, 2), "note", 1000, required=False)
    return HypothesisClose(t.ident(args[0]), outcome, note)


VERBS = {
    "add": Verb(_add, EXAMPLE),
    "list": Verb(_list, "hypothesis list mine"),
    "show": Verb(t.fixed(HypothesisShow, t.ident), "hypothesis show 4"),
    "digest": Verb(_digest, "hypothesis digest fri 16:00"),
    "lead": Verb(t.fixed(HypothesisLead, t.user), "hypothesis lead @ana"),
    "coleads": Verb(
        lambda args, rest: HypothesisColeads(t.users_or_none(args)), "hypothesis coleads @ben"
    ),
    "checkin": Verb(_checkin, "hypothesis checkin 4 on-track precision=0.87 cleaner"),
    "close": Verb(_close, "hypothesis close 4 validated shipped to prod"),
}
