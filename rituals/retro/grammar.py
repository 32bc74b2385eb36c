"""The `retro` words: boards, items, votes, action items and the retro's schedule.

Category words are not checked here: which ones are valid depends on the format of the
channel's retro, which only the service knows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from typing import ClassVar

from rituals.commands import Command, Verb
from rituals.commands import tokens as t
from rituals.retro.formats import RetroFormat

WORD = "retro"
MAX_TITLE = 300
MAX_ITEM = 3000  # Slack's limit for the text of one section, where an item is shown whole
DEFAULT_VOTES = 3
MAX_VOTES = 20
MAX_WEEKS = 12

_CATEGORY = re.compile(r"[a-z0-9][a-z0-9-]{0,15}")
_ACTION_ID = re.compile(r"[aA#]?([0-9]{1,10})")


@dataclass(frozen=True)
class RetroStart(Command):
    title: str = ""
    format: RetroFormat = RetroFormat.default
    anonymous: bool = True  # whether items may be anonymous (``anon``) or not (``named``)
    hidden: bool = False  # items stay hidden until ``retro reveal``
    votes: int = DEFAULT_VOTES


@dataclass(frozen=True)
class RetroAdd(Command):
    category: str
    text: str
    anonymous: bool = False


@dataclass(frozen=True)
class RetroAddAlone(Command):
    """``retro add`` with nothing after it: a form where the platform has one (the kind's
    ``bare_forms``), else a usage reply naming the categories of the channel's board,
    which only the service knows."""


@dataclass(frozen=True)
class RetroVote(Command):
    item_id: int


@dataclass(frozen=True)
class RetroReveal(Command):
    pass


@dataclass(frozen=True)
class RetroClose(Command):
    pass


@dataclass(frozen=True)
class RetroActions(Command):
    reads_only: ClassVar[bool] = True


@dataclass(frozen=True)
class RetroDone(Command):
    action_id: int


@dataclass(frozen=True)
class RetroSchedule(Command):
    every_weeks: int
    weekday: int  # ISO 1..7
    at: time
    tz: str | None = None  # None: the channel's zone as set before, else the person's own


@dataclass(frozen=True)
class RetroUnschedule(Command):
    pass


@dataclass(frozen=True)
class RetroLead(Command):
    """Hand the channel's retros on to another person."""

    user: str


@dataclass(frozen=True)
class RetroColeads(Command):
    """Who else may reveal, close and schedule the channel's retros (none clears them)."""

    users: tuple[str, ...]


def _start(args: list[str], rest: str) -> Command:
    """Options trail the title (``Sprint 14 format ssc named hidden``), in any order."""
    tokens = list(args)
    fmt: RetroFormat | None = None
    anonymous: bool | None = None
    hidden: bool | None = None
    votes: int | None = None

    def unset(value: object, key: str) -> None:
        if value is not None:
            raise t.Reject(f"'{key}' is given twice")

    while tokens:
        last = tokens[-1].lower()
        before = tokens[-2].lower() if len(tokens) > 1 else ""
        if last in ("anon", "named"):
            if anonymous is not None:
                raise t.Reject("choose anon or named, once")
            anonymous = last == "anon"
            del tokens[-1]
        elif last == "hidden":
            unset(hidden, "hidden")
            hidden = True
            del tokens[-1]
        elif before == "format":
            unset(fmt, "format")
            fmt = t.choice(RetroFormat, tokens[-1], "format")
            del tokens[-2:]
        elif before == "votes":
            unset(votes, "votes")
            votes = t.integer(tokens[-1], 1, MAX_VOTES, "votes")
            del tokens[-2:]
        else:
            break
    popped = len(args) - len(tokens)
    title = "" if not tokens else rest.rsplit(None, popped)[0] if popped else rest
    return RetroStart(
        title=t.free_text(title, "title", MAX_TITLE, required=False),
        format=fmt or RetroFormat.default,
        anonymous=True if anonymous is None else anonymous,
        hidden=bool(hidden),
        votes=votes or DEFAULT_VOTES,
    )


def category_word(token: str) -> str:
    """``well``, ``Well`` or ``well:``; a word, since the format decides which ones are valid."""
    word = token.lower().removesuffix(":")
    if not _CATEGORY.fullmatch(word):
        raise t.Reject(f"expected a category word like well or improve, not {t.quote(token)}")
    return word


def _add(args: list[str], rest: str) -> Command:
    if not args:
        return RetroAddAlone()
    category = category_word(args[0])
    text = t.drop(rest, 1)
    anonymous = len(args) > 1 and args[-1].lower() == "anon"
    if anonymous:
        text = text.rsplit(None, 1)[0] if len(args) > 2 else ""
    return RetroAdd(category, t.free_text(text, "text", MAX_ITEM), anonymous)


def action_id(token: str) -> int:
    """Action items are shown as ``A3``; ``3`` and ``#3`` name it too."""
    match = _ACTION_ID.fullmatch(token)
    if match is None or not 1 <= int(match[1]) <= t.MAX_ID:
        raise t.Reject(f"expected an action item id like A3, not {t.quote(token)}")
    return int(match[1])


def _weeks(value: str) -> int:
    """``week``, ``weeks``, ``2 weeks`` or ``2``."""
    words = value.lower().split()
    if words and words[-1] in ("week", "weeks"):
        words = words[:-1]
    if not words:
        return 1
    if len(words) > 1:
        raise t.Reject(f"every takes a number of weeks like '2 weeks', not {t.quote(value)}")
    return t.integer(words[0], 1, MAX_WEEKS, "weeks")


def _schedule(args: list[str], rest: str) -> Command:
    if len(args) == 1 and args[0].lower() in ("off", "none", "stop"):
        return RetroUnschedule()
    opts = t.options(args, ("every", "on", "at", "tz"))
    for key, what in (("every", "every N weeks"), ("on", "on DAY"), ("at", "at HH:MM")):
        if key not in opts:
            raise t.Reject(f"missing '{what}'")
    return RetroSchedule(
        every_weeks=_weeks(opts["every"]),
        weekday=t.weekday(opts["on"].lower()),
        at=t.clock_time(opts["at"]),
        tz=t.maybe(opts.get("tz"), t.timezone),
    )


VERBS = {
    "start": Verb(_start, "retro start Sprint 14 format ssc named hidden"),
    "add": Verb(_add, "retro add well Shipped the new ranker anon"),
    "vote": Verb(t.fixed(RetroVote, t.ident), "retro vote 3"),
    "reveal": Verb(t.fixed(RetroReveal), "retro reveal"),
    "close": Verb(t.fixed(RetroClose), "retro close"),
    "actions": Verb(t.fixed(RetroActions), "retro actions"),
    "done": Verb(t.fixed(RetroDone, action_id), "retro done A3"),
    "schedule": Verb(_schedule, "retro schedule every 2 weeks on fri at 15:00"),
    "lead": Verb(t.fixed(RetroLead, t.user), "retro lead @ana"),
    "coleads": Verb(lambda args, rest: RetroColeads(t.users_or_none(args)), "retro coleads @ana"),
}
