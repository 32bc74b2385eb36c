"""Turn one line of chat text into a typed command, or a ``Usage`` saying what to type instead.

``parse`` is total: it never raises, whatever the text, so every platform adapter can hand it
untrusted input and only ever has to render one of two shapes.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import math
import re
import zoneinfo
from collections.abc import Callable
from datetime import date, time
from enum import StrEnum
from typing import TypeVar

from rituals.commands import model as m
from rituals.commands.model import BACKLOG_TYPES, WEEKDAYS, Command, Usage

MAX_LENGTH = 4000
MAX_ID = 2**31 - 1
MAX_MUTE_MINUTES = 30 * 24 * 60

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)
Handler = Callable[[list[str], str], Command]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
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
_KNOW_WHEN = r"we(?:'ll|’ll| will) know when "
_HYPOTHESIS = re.compile(
    r"we believe (?P<belief>.+?) will result in (?P<result>.+?)(?:[;,.] ?| )"
    rf"{_KNOW_WHEN}(?P<cond>.+)",
    re.IGNORECASE,
)
_PHRASES = (
    ("'We believe'", "^we believe "),
    ("'will result in'", " will result in "),
    ('"we\'ll know when"', _KNOW_WHEN),
)
_HYPOTHESIS_EXAMPLE = (
    "hypothesis add We believe dedup will result in cleaner labels; "
    "we'll know when precision >= 0.9 by 2030-09-30 checkin weekly owner @ana"
)

_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = {name: n for names in (WEEKDAYS, _FULL_DAYS) for n, name in enumerate(names, 1)}
_EVERY_DAY = (1, 2, 3, 4, 5, 6, 7)
_DAY_SETS = dict(weekdays=_EVERY_DAY[:5], weekends=(6, 7), daily=_EVERY_DAY, everyday=_EVERY_DAY)
_BACKLOG_SCOPES = ("mine", "open", "done", *BACKLOG_TYPES, "p0", "p1", "p2", "p3")


class _Reject(Exception):
    """Carries a user-facing error out of nested helpers so each handler reads as the happy path."""


def _q(token: str) -> str:
    """Quote input briefly, so an error points at the culprit without echoing a wall of text."""
    return repr(token if len(token) <= 40 else token[:39] + "…")


def _drop(text: str, count: int) -> str:
    """The raw text after ``count`` words, keeping the user's own spacing inside free text."""
    parts = text.split(None, count)
    return parts[count].strip() if len(parts) > count else ""


def _require(args: list[str], *names: str) -> None:
    """Name exactly the arguments still missing, so the user knows what to add."""
    if len(args) < len(names):
        raise _Reject("missing " + " and ".join(names[len(args) :]))


def _at_most(args: list[str], count: int) -> list[str]:
    """Reject stray words rather than silently ignore something the user meant."""
    if len(args) > count:
        raise _Reject(f"unexpected {_q(' '.join(args[count:]))}")
    return args


def _text(value: str, what: str, limit: int, *, required: bool = True) -> str:
    """Bound free text, since it ends up in databases and chat messages of limited size."""
    value = value.strip()
    if required and not value:
        raise _Reject(f"{what} is missing")
    if len(value) > limit:
        raise _Reject(f"{what} is too long: {len(value)} characters, the limit is {limit}")
    return value


def _maybe(raw: str | None, convert: Callable[[str], T]) -> T | None:
    """Convert an option only when given, since absent options mean 'keep the current value'."""
    return None if raw is None else convert(raw)


def _int(token: str, low: int, high: int, what: str) -> int:
    """Read ASCII digits only: ``int()`` would accept Arabic-Indic digits and underscores."""
    match = _INT.fullmatch(token)
    if match is None or not low <= int(match[1]) <= high:
        raise _Reject(f"{what} must be a whole number from {low} to {high}, not {_q(token)}")
    return int(match[1])


def _id(token: str) -> int:
    """Ids are positive and must fit the database's 32-bit integer column."""
    return _int(token, 1, MAX_ID, "id")


def _number(token: str) -> float:
    """Only finite decimals: ``float()`` alone would let 'nan' and 'inf' become thresholds."""
    if _NUMBER.fullmatch(token) and math.isfinite(value := float(token)):
        return value
    raise _Reject(f"expected a number like 0.8, not {_q(token)}")


def _date(token: str) -> date:
    """Strict YYYY-MM-DD: ``date.fromisoformat`` also takes week dates and compact forms."""
    match = _DATE.fullmatch(token)
    if match is not None:
        with contextlib.suppress(ValueError):
            return date(int(match[1]), int(match[2]), int(match[3]))
    raise _Reject(f"expected a real date as YYYY-MM-DD, not {_q(token)}")


def _time(token: str) -> time:
    """A 24-hour wall-clock time; the stand-up's timezone gives it meaning later."""
    match = _TIME.fullmatch(token)
    if match is None:
        raise _Reject(f"expected a 24-hour time like 9:30 or 17:00, not {_q(token)}")
    return time(int(match[1]), int(match[2]))


def _weekday(name: str) -> int:
    """ISO weekday number of a short or full day name."""
    if name not in _WEEKDAY:
        raise _Reject(f"unknown day {_q(name)}; use mon..sun, e.g. mon-fri or mon,wed,fri")
    return _WEEKDAY[name]


def _days(spec: str) -> tuple[int, ...]:
    """Days as sorted ISO numbers; ranges may wrap (sun-thu) for teams whose week starts Sunday."""
    compact = "".join(spec.lower().split())
    if compact in _DAY_SETS:
        return _DAY_SETS[compact]
    days: set[int] = set()
    for part in compact.split(","):
        first, dash, last = part.partition("-")
        start = _weekday(first)
        span = (_weekday(last) - start) % 7 if dash else 0
        days.update((start + k - 1) % 7 + 1 for k in range(span + 1))
    return tuple(sorted(days))


@functools.cache
def _zones() -> dict[str, str]:
    """Known zone names by lower case; listing them walks the disk, so it is done once."""
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def _tz(name: str) -> str:
    """A canonical IANA name, checked against the known list before anything touches the disk."""
    canonical = _zones().get(name.lower())
    if canonical is not None:
        try:
            zoneinfo.ZoneInfo(canonical)
        except Exception:
            canonical = None
    if canonical is None:
        raise _Reject(f"unknown timezone {_q(name)}; use an IANA name like Europe/Berlin")
    return canonical


def _holidays(code: str) -> str:
    """A country (optionally with subdivision) for the holiday calendar, or 'none' for none."""
    if code.lower() == "none":
        return "none"
    if not _HOLIDAYS.fullmatch(code):
        raise _Reject(f"holidays takes a country code like DE or US-CA, or none; not {_q(code)}")
    return code.upper()


def _mention(token: str) -> str | None:
    """The user in ``@name`` or Slack's ``<@U123>``; None when the token is not a mention."""
    match = _MENTION.fullmatch(token)
    return None if match is None else match[1] or match[2]


def _user(token: str) -> str:
    """A user where one is required, so the leading @ may be left out."""
    user = _mention(token) or _mention("@" + token)
    if user is None:
        raise _Reject(f"expected a user like @ana, not {_q(token)}")
    return user


def _priority(token: str) -> int:
    """p0 (drop everything) to p3 (some day), the scale ML teams already use in trackers."""
    if not _PRIORITY.fullmatch(token):
        raise _Reject(f"priority is p0, p1, p2 or p3; not {_q(token)}")
    return int(token[1])


def _days_back(token: str) -> int:
    """A report spans at most a year, so one command cannot ask for an unbounded query."""
    return _int(token, 1, 365, "days")


def _choice(kind: type[E], token: str, what: str) -> E:
    """One value of a closed set, with the allowed values in the error."""
    try:
        return kind(token.lower())
    except ValueError:
        raise _Reject(f"{what} must be one of {', '.join(kind)}, not {_q(token)}") from None


def _duration(token: str) -> int:
    """Minutes from forms like 30m, 2h or 1h30m, bounded so a mute cannot be forgotten forever."""
    match = _DURATION.fullmatch(token.lower())
    minutes = 0
    if match is not None:
        units = (24 * 60, 60, 1)
        minutes = sum(int(n or 0) * unit for n, unit in zip(match.groups(), units, strict=True))
    if not 1 <= minutes <= MAX_MUTE_MINUTES:
        raise _Reject(f"duration must be 1m to 30d, like 30m, 2h or 1h30m; not {_q(token)}")
    return minutes


def _checkin(value: str) -> str:
    """daily, weekly, or a loosely checked five-field cron, quoted or not."""
    lowered = value.lower()
    if lowered in ("daily", "weekly"):
        return lowered
    fields = lowered.strip("\"'“”‘’ ").split()
    valid = len(fields) == 5 and all(
        _CRON_FIELD.fullmatch(f) and set(re.findall("[a-z]+", f)) <= _CRON_NAMES for f in fields
    )
    if not valid:
        raise _Reject(f"checkin is daily, weekly or a cron like '0 9 * * mon'; not {_q(value)}")
    return " ".join(fields)


def _condition(text: str) -> tuple[str, str, float, str]:
    """METRIC OP TARGET with or without spaces around OP, plus whatever follows the target."""
    match = _CONDITION.fullmatch(text)
    if match is None:
        raise _Reject(f"expected METRIC OP TARGET like 'recall >= 0.8', not {_q(text)}")
    metric = _text(match["metric"], "metric", 100)
    return metric, match["op"], _number(match["target"]), match["tail"] or ""


def _options(tokens: list[str], keys: tuple[str, ...]) -> dict[str, str]:
    """``key value...`` pairs in any order, each at most once; a value runs to the next key."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for token in tokens:
        key = token.lower()
        if key in keys:
            if key in found:
                raise _Reject(f"'{key}' is given twice")
            current = found[key] = []
        elif current is None:
            raise _Reject(f"unknown option {_q(token)}; use {', '.join(keys)}")
        else:
            current.append(token)
    if missing := [key for key, words in found.items() if not words]:
        raise _Reject(f"'{missing[0]}' needs a value")
    return {key: " ".join(words) for key, words in found.items()}


def _fixed(
    command: Callable[..., Command], *fields: Callable[[str], object], optional: int = 0
) -> Handler:
    """Handler for one-word positional arguments, so most rows of the table need no code."""

    names = [field.__name__.strip("_").replace("_", " ") for field in fields]

    def handler(args: list[str], rest: str) -> Command:
        _require(args, *names[: len(names) - optional])
        _at_most(args, len(fields))
        return command(*(field(arg) for field, arg in zip(fields, args, strict=False)))

    return handler


def _summary_form(word: str) -> str:
    """How the summary is laid out: short with answers in its thread, or all in one post."""
    if word.lower() not in ("short", "full"):
        raise _Reject(f"format is short or full, not {_q(word)}")
    return word.lower()


def _escalate_days(word: str) -> int:
    """Days a blocker may stay open before it is escalated: ``escalate 3``."""
    if not word.isdigit() or not 1 <= int(word) <= 30:
        raise _Reject(f"escalate takes a number of days from 1 to 30, not {_q(word)}")
    return int(word)


def _standup_setup(args: list[str], rest: str) -> Command:
    opts = _options(args, ("at", "days", "tz", "summary", "holidays", "format", "escalate"))
    return m.StandupSetup(
        at=_maybe(opts.get("at"), _time),
        days=_maybe(opts.get("days"), _days),
        tz=_maybe(opts.get("tz"), _tz),
        summary=_maybe(opts.get("summary"), _time),
        holidays=_maybe(opts.get("holidays"), _holidays),
        summary_form=_maybe(opts.get("format"), _summary_form),
        escalate_after=_maybe(opts.get("escalate"), _escalate_days),
    )


def _standup_questions(args: list[str], rest: str) -> Command:
    questions = rest.split("|")
    if len(questions) > 10:
        raise _Reject(f"at most 10 questions, got {len(questions)}")
    return m.StandupQuestions(
        tuple(_text(q, f"question {n}", 300) for n, q in enumerate(questions, 1))
    )


def _standup_away(args: list[str], rest: str) -> Command:
    return m.StandupAway(_maybe(_options(args, ("until",)).get("until"), _date))


def _standup_export(args: list[str], rest: str) -> Command:
    dates = [_date(token) for token in _at_most(args, 2)]
    if len(dates) == 2 and dates[0] > dates[1]:
        raise _Reject(f"FROM {dates[0]} is after TO {dates[1]}")
    return m.StandupExport(*dates)


def _standup_edit(args: list[str], rest: str) -> Command:
    _require(args, "question number", "text")
    return m.StandupEdit(
        _int(args[0], 1, 10, "question number"), _text(_drop(rest, 1), "text", 3000)
    )


def _retro_start(args: list[str], rest: str) -> Command:
    return m.RetroStart(_text(rest, "title", 300, required=False))


def _retro_add(args: list[str], rest: str) -> Command:
    _require(args, "column (well, improve, idea or action)")
    column = _choice(m.RetroColumn, args[0], "column")
    text = _drop(rest, 1)
    anonymous = len(args) > 1 and args[-1].lower() == "anon"
    if anonymous:
        text = text[: -len(args[-1])]
    return m.RetroAdd(column, _text(text, "text", 1000), anonymous)


def _hypothesis_add(args: list[str], rest: str) -> Command:
    sentence = " ".join(args)
    match = _HYPOTHESIS.fullmatch(sentence)
    if match is None:
        for phrase, pattern in _PHRASES:
            if not re.search(pattern, sentence, re.IGNORECASE):
                raise _Reject(f"missing {phrase}")
        raise _Reject("expected: We believe X will result in Y; we'll know when METRIC OP TARGET")
    metric, op, target, tail = _condition(match["cond"])
    opts = _options(tail.split(), ("by", "checkin", "owner"))
    return m.HypothesisAdd(
        belief=_text(match["belief"], "belief", 1000),
        result=_text(match["result"], "result", 1000),
        metric=metric,
        op=op,
        target=target,
        by=_maybe(opts.get("by"), _date),
        checkin=_checkin(opts.get("checkin", "weekly")),
        owner=_maybe(opts.get("owner"), _user),
    )


def _hypothesis_checkin(args: list[str], rest: str) -> Command:
    _require(args, "id", "status")
    hypothesis_id, status = _id(args[0]), _choice(m.HypothesisStatus, args[1], "status")
    metrics: list[tuple[str, float]] = []
    for token in args[2:]:
        name, equals, value = token.partition("=")
        if not equals:
            break
        metrics.append((_text(name, "metric name", 100), _number(value)))
    note = _text(_drop(rest, 2 + len(metrics)), "note", 1000, required=not metrics)
    return m.HypothesisCheckin(hypothesis_id, status, tuple(metrics), note)


def _hypothesis_close(args: list[str], rest: str) -> Command:
    _require(args, "id", "outcome")
    outcome = _choice(m.HypothesisOutcome, args[1], "outcome")
    note = _text(_drop(rest, 2), "note", 1000, required=False)
    return m.HypothesisClose(_id(args[0]), outcome, note)


def _backlog_add(args: list[str], rest: str) -> Command:
    kind: str | None = None
    priority: int | None = None
    leading = 0
    for token in args[:2]:
        if kind is None and token.lower() in BACKLOG_TYPES:
            kind = token.lower()
        elif priority is None and _PRIORITY.fullmatch(token):
            priority = int(token[1])
        else:
            break
        leading += 1
    title = _drop(rest, leading)
    owner = _mention(args[-1]) if len(args) > leading else None
    if owner is not None:
        title = title[: -len(args[-1])]
    return m.BacklogAdd(_text(title, "title", 300), kind, priority, owner)


def _backlog_list(args: list[str], rest: str) -> Command:
    scope = _at_most(args, 1)[0].lower() if args else "open"
    if scope not in _BACKLOG_SCOPES:
        raise _Reject(f"list what? one of {', '.join(_BACKLOG_SCOPES)}; not {_q(scope)}")
    return m.BacklogList(scope)


def _backlog_sprint(args: list[str], rest: str) -> Command:
    _require(args, "id", "sprint name")
    return m.BacklogSprint(_id(args[0]), _text(_drop(rest, 1), "sprint name", 100))


def _alerts_rule(args: list[str], rest: str) -> Command:
    if not args or args[0].lower() != "add":
        raise _Reject("expected 'alerts rule add MODEL METRIC OP THRESHOLD'")
    _require(args, "add", "model", "METRIC OP THRESHOLD")
    metric, op, threshold, tail = _condition(" ".join(args[2:]))
    if tail:
        raise _Reject(f"unexpected {_q(tail)}")
    return m.AlertsRuleAdd(_text(args[1], "model", 100), metric, op, threshold)


def _alerts_mute(args: list[str], rest: str) -> Command:
    _require(args, "model", "duration")
    return m.AlertsMute(_text(args[0], "model", 100), _duration("".join(args[1:])))


_COMMANDS: dict[str, dict[str, tuple[Handler, str]]] = {
    "standup": {
        "setup": (_standup_setup, "standup setup at 9:30 days mon-fri tz Europe/Berlin"),
        "questions": (_standup_questions, "standup questions Yesterday? | Today? | Blockers?"),
        "join": (_fixed(m.StandupJoin), "standup join"),
        "leave": (_fixed(m.StandupLeave), "standup leave"),
        "now": (_fixed(m.StandupNow), "standup now"),
        "status": (_fixed(m.StandupStatus), "standup status"),
        "pause": (_fixed(m.StandupPause), "standup pause"),
        "resume": (_fixed(m.StandupResume), "standup resume"),
        "back": (_fixed(m.StandupBack), "standup back"),
        "blockers": (_fixed(m.StandupBlockers), "standup blockers"),
        "skip": (_fixed(m.StandupSkip, _date), "standup skip 2030-12-24"),
        "away": (_standup_away, "standup away until 2030-08-15"),
        "resolve": (_fixed(m.StandupResolve, _id), "standup resolve 12"),
        "report": (_fixed(m.StandupReport, _days_back, optional=1), "standup report 14"),
        "export": (_standup_export, "standup export 2025-01-01 2025-03-31"),
        "edit": (_standup_edit, "standup edit 2 Finished the eval harness"),
    },
    "retro": {
        "start": (_retro_start, "retro start Sprint 14"),
        "add": (_retro_add, "retro add well Shipped the new ranker anon"),
        "vote": (_fixed(m.RetroVote, _id), "retro vote 3"),
        "close": (_fixed(m.RetroClose), "retro close"),
        "actions": (_fixed(m.RetroActions), "retro actions"),
    },
    "hypothesis": {
        "add": (_hypothesis_add, _HYPOTHESIS_EXAMPLE),
        "list": (_fixed(m.HypothesisList), "hypothesis list"),
        "checkin": (_hypothesis_checkin, "hypothesis checkin 4 on-track precision=0.87 cleaner"),
        "close": (_hypothesis_close, "hypothesis close 4 validated shipped to prod"),
    },
    "backlog": {
        "add": (_backlog_add, "backlog add data p1 Deduplicate the click logs @ana"),
        "list": (_backlog_list, "backlog list mine"),
        "done": (_fixed(m.BacklogDone, _id), "backlog done 7"),
        "assign": (_fixed(m.BacklogAssign, _id, _user), "backlog assign 7 @ana"),
        "prio": (_fixed(m.BacklogPrio, _id, _priority), "backlog prio 7 p0"),
        "sprint": (_backlog_sprint, "backlog sprint 7 Sprint 15"),
        "export": (_fixed(m.BacklogExport), "backlog export"),
    },
    "alerts": {
        "connect": (_fixed(m.AlertsConnect), "alerts connect"),
        "rule": (_alerts_rule, "alerts rule add ranker-v2 auc < 0.7"),
        "list": (_fixed(m.AlertsList), "alerts list"),
        "mute": (_alerts_mute, "alerts mute ranker-v2 2h"),
    },
}
_KNOWN = ", ".join(("help", *_COMMANDS))


def parse(text: str) -> Command | Usage:
    """Parse one chat command; never raises, so adapters can pass any message text straight in."""
    if len(text) > MAX_LENGTH:
        return Usage(f"too long: {len(text)} characters, the limit is {MAX_LENGTH}", "help")
    if _CONTROL.search(text):
        return Usage("control characters are not allowed in commands", "help")
    body = text.strip().removeprefix("/")
    words = body.split()
    if not words:
        return m.Help()
    ritual = words[0].lower()
    if ritual == "help":
        topic = " ".join(words[1:]).lower()
        if topic and topic not in _COMMANDS:
            return Usage(f"no help on {_q(topic)}; topics are {', '.join(_COMMANDS)}", "help")
        return m.Help(topic)
    if ritual not in _COMMANDS:
        guess = difflib.get_close_matches(ritual, [*_COMMANDS, "help"], n=1)
        hint = f"; did you mean {guess[0]!r}?" if guess else f"; known words are {_KNOWN}"
        return Usage(f"unknown command {_q(words[0])}{hint}", "help")
    if len(words) == 1 or (len(words) == 2 and words[1].lower() == "help"):
        return m.Help(ritual)
    table, sub = _COMMANDS[ritual], words[1].lower()
    if sub not in table:
        guess = difflib.get_close_matches(sub, table, n=1)
        if guess:
            error = f"unknown {ritual} command {_q(words[1])}; did you mean {guess[0]!r}?"
            return Usage(error, table[guess[0]][1], ritual)
        error = f"unknown {ritual} command {_q(words[1])}; use {', '.join(table)}"
        return Usage(error, next(iter(table.values()))[1], ritual)
    handler, example = table[sub]
    try:
        return handler(words[2:], _drop(body, 2))
    except _Reject as rejected:
        return Usage(str(rejected), example, ritual)
