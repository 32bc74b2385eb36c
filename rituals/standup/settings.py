"""A stand-up's settings as the domain reads them from its ritual row."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rituals.schedule import Schedule, local_instant
from rituals.standup.blockers import blocker_question_index
from storage.models import Ritual

DEFAULT_AT = time(9, 30)
DEFAULT_DAYS = (1, 2, 3, 4, 5)
DEFAULTS: dict[str, Any] = {
    "reminder_minutes": 90,
    "escalate_after_days": 2,
    "summary_mode": "short",
}
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def default_questions() -> list[str]:
    """The questions a new stand-up asks, read from ``prompts/`` so teams can edit them."""
    for base in (Path(__file__).resolve().parents[2], Path("/app")):
        path = base / "prompts" / "standup_questions.txt"
        if path.is_file():
            lines = [line.strip() for line in path.read_text().splitlines()]
            questions = [line for line in lines if line]
            if questions:
                return questions
    return [
        "What did you get done since the last stand-up?",
        "What will you work on today?",
        "Anything blocking you?",
    ]


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def days_of(ritual: Ritual) -> tuple[int, ...]:
    return tuple(int(d) for d in ritual.days.split(",") if d)


def days_label(days: tuple[int, ...]) -> str:
    if days == (1, 2, 3, 4, 5):
        return "Mon–Fri"
    if days == (1, 2, 3, 4, 5, 6, 7):
        return "every day"
    return ", ".join(DAY_NAMES[d - 1] for d in days)


def zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def option(ritual: Ritual, name: str) -> Any:
    return (ritual.options or {}).get(name, DEFAULTS[name])


def schedule_of(ritual: Ritual, tz: str | None = None) -> Schedule:
    """The ritual's schedule as seen from ``tz`` (a member's zone), same wall-clock time."""
    return Schedule(
        at=parse_hhmm(ritual.at),
        days=frozenset(days_of(ritual)),
        tz=tz or ritual.tz,
        skip_dates=frozenset(date.fromisoformat(d) for d in ritual.skip_dates or []),
        country=ritual.country,
    )


def nominal_time(ritual: Ritual, day: date) -> datetime:
    return local_instant(day, parse_hhmm(ritual.at), ritual.tz)


def summary_time(ritual: Ritual, day: date) -> datetime:
    return local_instant(day, parse_hhmm(ritual.summary_at), ritual.tz)


def summary_gap(ritual: Ritual) -> timedelta:
    start = parse_hhmm(ritual.at)
    end = parse_hhmm(ritual.summary_at)
    return timedelta(hours=end.hour - start.hour, minutes=end.minute - start.minute)


def blocker_index(ritual: Ritual) -> int | None:
    return blocker_question_index(list(ritual.questions))
