"""The `digest` words: when the channel's weekly digest goes out, off, now, and who leads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from rituals.commands import Command, Verb
from rituals.commands import tokens as t

WORD = "digest"
EXAMPLE = "digest weekly fri 16:00"


@dataclass(frozen=True)
class DigestWeekly(Command):
    """Every ``weekday`` (ISO) at ``at``, in ``tz`` (the person's own zone when None)."""

    weekday: int
    at: time
    tz: str | None = None


@dataclass(frozen=True)
class DigestOff(Command):
    pass


@dataclass(frozen=True)
class DigestNow(Command):
    """The last seven days' digest, posted in the channel now."""


@dataclass(frozen=True)
class DigestStatus(Command):
    pass


@dataclass(frozen=True)
class DigestLead(Command):
    user: str


@dataclass(frozen=True)
class DigestColeads(Command):
    users: tuple[str, ...]


def _weekly(args: list[str], rest: str) -> Command:
    """``DAY HH:MM [tz Area/City]``."""
    t.require(args, "day", "time")
    options = t.options(args[2:], ("tz",))
    tz = t.timezone(options["tz"]) if "tz" in options else None
    return DigestWeekly(t.weekday(args[0].lower()), t.clock_time(args[1]), tz)


VERBS = {
    "weekly": Verb(_weekly, EXAMPLE),
    "off": Verb(t.fixed(DigestOff), "digest off"),
    "now": Verb(t.fixed(DigestNow), "digest now"),
    "status": Verb(t.fixed(DigestStatus), "digest status"),
    "lead": Verb(t.fixed(DigestLead, t.user), "digest lead @ana"),
    "coleads": Verb(lambda args, rest: DigestColeads(t.users_or_none(args)), "digest coleads @ben"),
}
