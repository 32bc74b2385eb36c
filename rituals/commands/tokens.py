"""Words and values the grammars of every ritual kind share: times, dates, ids, users, options.

Each helper either returns a typed value or raises `Reject` with what was wrong, so a kind's
parse functions read as the happy path and the grammar turns the rejection into a `Usage`.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import zoneinfo
from collections.abc import Callable
from datetime import date, time
from enum import StrEnum
from typing import TypeVar

from rituals.commands.model import WEEKDAYS, Command

MAX_ID = 2**31 - 1
MAX_MUTE_MINUTES = 30 * 24 * 60

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)
Handler = Callable[[list[str], str], Command]

_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
_TWELVE_HOUR = re.compile(r"([0-9]{1,2})(?::([0-5][0-9]))?(am|pm)")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_INT = re.compile(r"#?([0-9]{1,10})")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
_PRIORITY = re.compile(r"[pP]([0-3])")
_DURATION = re.compile(r"(?:([0-9]{1,5})d)?(?:([0-9]{1,5})h)?(?:([0-9]{1,5})m)?")
_HOLIDAYS = re.compile(r"[A-Za-z]{2}(?:-[A-Za-z0-9]{1,3})?")
_MENTION = re.compile(r"<@([A-Za-z0-9]{1,40})(?:\|[^<>]{0,80})?>|@([\w.\-]{1,80})")
_CONDITION = re.compile(
    r"(?P<metric>[^<>=!]+?) ?(?P<op><=|>=|==|<|>|=) ?(?P<target>\S+)(?: (?P<tail>.*))?"
)
_CRON_FIELD = re.compile(r"(?:[0-9]+|\*|[a-z]{3})(?:[-/,](?:[0-9]+|\*|[a-z]{3}))*")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_CRON_NAMES = {*WEEKDAYS, *_MONTHS}

_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = {name: n for names in (WEEKDAYS, _FULL_DAYS) for n, name in enumerate(names, 1)}
_EVERY_DAY = (1, 2, 3, 4, 5, 6, 7)
_DAY_SETS = dict(weekdays=_EVERY_DAY[:5], weekends=(6, 7), daily=_EVERY_DAY, everyday=_EVERY_DAY)


class Reject(Exception):
    """Carries a user-facing error out of nested helpers so each handler reads as the happy path."""


def quote(token: str) -> str:
    """Quote input briefly, so an error points at the culprit without echoing a wall of text."""
    return repr(token if len(token) <= 40 else token[:39] + "…")


def drop(text: str, count: int) -> str:
    """The raw text after ``count`` words, keeping the user's own spacing inside free text."""
    parts = text.split(None, count)
    return parts[count].strip() if len(parts) > count else ""


def require(args: list[str], *names: str) -> None:
    """Name exactly the arguments still missing, so the user knows what to add."""
    if len(args) < len(names):
        raise Reject("missing " + " and ".join(names[len(args) :]))


def at_most(args: list[str], count: int) -> list[str]:
    """Reject stray words rather than silently ignore something the user meant."""
    if len(args) > count:
        raise Reject(f"unexpected {quote(' '.join(args[count:]))}")
    return args


def free_text(value: str, what: str, limit: int, *, required: bool = True) -> str:
    """Bound free text, since it ends up in databases and chat messages of limited size."""
    value = value.strip()
    if required and not value:
        raise Reject(f"{what} is missing")
    if len(value) > limit:
        raise Reject(f"{what} is too long: {len(value)} characters, the limit is {limit}")
    return value


def maybe(raw: str | None, convert: Callable[[str], T]) -> T | None:
    """Convert an option only when given, since absent options mean 'keep the current value'."""
    return None if raw is None else convert(raw)


def integer(token: str, low: int, high: int, what: str) -> int:
    """Read ASCII digits only: ``int()`` would accept Arabic-Indic digits and underscores."""
    match = _INT.fullmatch(token)
    if match is None or not low <= int(match[1]) <= high:
        raise Reject(f"{what} must be a whole number from {low} to {high}, not {quote(token)}")
    return int(match[1])


def button_id(value: str) -> int | None:
    """The id a button's or form's value carries: ASCII digits, at most 10 of them;
    anything else (a forged value thousands of digits long) is no id."""
    if len(value) > 10 or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def ident(token: str) -> int:
    """Ids are positive and must fit the database's 32-bit integer column; one outside
    that is simply not an id that exists."""
    match = _INT.fullmatch(token)
    if match is None:
        raise Reject(f"expected an id like 12, not {quote(token)}")
    if not 1 <= int(match[1]) <= MAX_ID:
        raise Reject(f"there is no #{match[1][:12]}: ids are shown as #1, #2 and so on")
    return int(match[1])


def number(token: str) -> float:
    """Only finite decimals: ``float()`` alone would let 'nan' and 'inf' become thresholds."""
    if _NUMBER.fullmatch(token) and math.isfinite(value := float(token)):
        return value
    raise Reject(f"expected a number like 0.8, not {quote(token)}")


def iso_date(token: str) -> date:
    """Strict YYYY-MM-DD: ``date.fromisoformat`` also takes week dates and compact forms."""
    match = _DATE.fullmatch(token)
    if match is not None:
        with contextlib.suppress(ValueError):
            return date(int(match[1]), int(match[2]), int(match[3]))
    raise Reject(f"expected a real date as YYYY-MM-DD, not {quote(token)}")


def clock_time(token: str) -> time:
    """A wall-clock time as people write it (9:30, 17:00, 9am, 9:30pm); the ritual's
    timezone gives it meaning later."""
    match = _TIME.fullmatch(token)
    if match is not None:
        return time(int(match[1]), int(match[2]))
    twelve = _TWELVE_HOUR.fullmatch(token.lower())
    if twelve is not None and 1 <= int(twelve[1]) <= 12:
        hour = int(twelve[1]) % 12 + (12 if twelve[3] == "pm" else 0)
        return time(hour, int(twelve[2] or 0))
    raise Reject(f"expected a time like 9:30, 17:00 or 9am, not {quote(token)}")


def weekday(name: str) -> int:
    """ISO weekday number of a short or full day name."""
    if name not in _WEEKDAY:
        raise Reject(f"unknown day {quote(name)}; use mon..sun, e.g. mon-fri or mon,wed,fri")
    return _WEEKDAY[name]


def weekdays(spec: str) -> tuple[int, ...]:
    """Days as sorted ISO numbers; ranges may wrap (sun-thu) for teams whose week starts Sunday."""
    compact = "".join(spec.lower().split())
    if compact in _DAY_SETS:
        return _DAY_SETS[compact]
    days: set[int] = set()
    for part in compact.split(","):
        first, dash, last = part.partition("-")
        start = weekday(first)
        span = (weekday(last) - start) % 7 if dash else 0
        days.update((start + k - 1) % 7 + 1 for k in range(span + 1))
    return tuple(sorted(days))


@functools.cache
def _zones() -> dict[str, str]:
    """Known zone names by lower case; listing them walks the disk, so it is done once."""
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def timezone(name: str) -> str:
    """A canonical IANA name, checked against the known list before anything touches the disk."""
    canonical = _zones().get(name.lower())
    if canonical is not None:
        try:
            zoneinfo.ZoneInfo(canonical)
        except Exception:
            canonical = None
    if canonical is None:
        raise Reject(f"unknown timezone {quote(name)}; use an IANA name like Europe/Berlin")
    return canonical


def holidays(code: str) -> str:
    """A country (optionally with subdivision) for the holiday calendar, or 'none' for none."""
    if code.lower() == "none":
        return "none"
    if not _HOLIDAYS.fullmatch(code):
        raise Reject(f"holidays takes a country code like DE or US-CA, or none; not {quote(code)}")
    return code.upper()


def mention(token: str) -> str | None:
    """The user in ``@name`` or Slack's ``<@U123>``; None when the token is not a mention."""
    match = _MENTION.fullmatch(token)
    return None if match is None else match[1] or match[2]


def user(token: str) -> str:
    """A user where one is required, so the leading @ may be left out."""
    user = mention(token) or mention("@" + token)
    if user is None:
        raise Reject(f"expected a user like @ana, not {quote(token)}")
    return user


def priority(token: str) -> int:
    """p0 (drop everything) to p3 (some day), the scale ML teams already use in trackers."""
    if not _PRIORITY.fullmatch(token):
        raise Reject(f"priority is p0, p1, p2 or p3; not {quote(token)}")
    return int(token[1])


def days_back(token: str) -> int:
    """A report spans at most a year, so one command cannot ask for an unbounded query."""
    return integer(token, 1, 365, "days")


def choice(kind: type[E], token: str, what: str) -> E:
    """One value of a closed set, with the allowed values in the error."""
    try:
        return kind(token.lower())
    except ValueError:
        raise Reject(f"{what} must be one of {', '.join(kind)}, not {quote(token)}") from None


def duration(token: str) -> int:
    """Minutes from forms like 30m, 2h or 1h30m, bounded so a mute cannot be forgotten forever."""
    match = _DURATION.fullmatch(token.lower())
    minutes = 0
    if match is not None:
        units = (24 * 60, 60, 1)
        minutes = sum(int(n or 0) * unit for n, unit in zip(match.groups(), units, strict=True))
    if not 1 <= minutes <= MAX_MUTE_MINUTES:
        raise Reject(f"duration must be 1m to 30d, like 30m, 2h or 1h30m; not {quote(token)}")
    return minutes


def checkin(value: str) -> str:
    """daily, weekly, or a loosely checked five-field cron, quoted or not."""
    lowered = value.lower()
    if lowered in ("daily", "weekly"):
        return lowered
    fields = lowered.strip("\"'“”‘’ ").split()
    valid = len(fields) == 5 and all(
        _CRON_FIELD.fullmatch(f) and set(re.findall("[a-z]+", f)) <= _CRON_NAMES for f in fields
    )
    if not valid:
        raise Reject(f"checkin is daily, weekly or a cron like '0 9 * * mon'; not {quote(value)}")
    return " ".join(fields)


def condition(text: str) -> tuple[str, str, float, str]:
    """METRIC OP TARGET with or without spaces around OP, plus whatever follows the target."""
    match = _CONDITION.fullmatch(text)
    if match is None:
        raise Reject(f"expected METRIC OP TARGET like 'recall >= 0.8', not {quote(text)}")
    metric = free_text(match["metric"], "metric", 100)
    return metric, match["op"], number(match["target"]), match["tail"] or ""


def options(tokens: list[str], keys: tuple[str, ...]) -> dict[str, str]:
    """``key value...`` pairs in any order, each at most once; a value runs to the next key."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for token in tokens:
        key = token.lower()
        if key in keys:
            if key in found:
                raise Reject(f"'{key}' is given twice")
            current = found[key] = []
        elif current is None:
            raise Reject(f"unknown option {quote(token)}; use {', '.join(keys)}")
        else:
            current.append(token)
    if missing := [key for key, words in found.items() if not words]:
        raise Reject(f"'{missing[0]}' needs a value")
    return {key: " ".join(words) for key, words in found.items()}


def fixed(
    command: Callable[..., Command], *fields: Callable[[str], object], optional: int = 0
) -> Handler:
    """Handler for one-word positional arguments, so most rows of the table need no code."""

    names = [WHAT.get(field, field.__name__.replace("_", " ")) for field in fields]

    def handler(args: list[str], rest: str) -> Command:
        require(args, *names[: len(names) - optional])
        at_most(args, len(fields))
        return command(*(field(arg) for field, arg in zip(fields, args, strict=False)))

    return handler


def users_or_none(args: list[str]) -> tuple[str, ...]:
    """``@a @b`` (up to 10, each once), or ``none`` for nobody."""
    require(args, "@user (or none)")
    if len(args) == 1 and args[0].lower() == "none":
        return ()
    if len(args) > 10:
        raise Reject(f"at most 10 people, got {len(args)}")
    return tuple(dict.fromkeys(user(token) for token in args))


WHAT: dict[Callable[..., object], str] = {
    ident: "id",
    iso_date: "date",
    clock_time: "time",
    user: "user",
    priority: "priority",
    days_back: "days",
}
