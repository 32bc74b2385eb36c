"""A stand-up's settings: a typed model over its ritual row's ``options``."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from rituals.schedule import Schedule, local_instant
from rituals.standup.blockers import blocker_question_index
from storage.models import Ritual

DEFAULT_AT = time(9, 30)
DEFAULT_DAYS = (1, 2, 3, 4, 5)
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


class StandupOptions(BaseModel):
    """Everything a stand-up is set to; ``left`` are people who opted out of a channel
    roster, so a roster sync does not add them back."""

    at: str = "09:30"
    days: list[int] = Field(default_factory=lambda: list(DEFAULT_DAYS))
    summary_at: str = "12:30"
    country: str | None = None
    questions: list[str] = Field(default_factory=default_questions)
    skip_dates: list[str] = Field(default_factory=list)
    summary_mode: str = "short"
    escalate_after_days: int = 2
    reminder_minutes: int = 90
    left: list[str] = Field(default_factory=list)
    # When the schedule last changed: a run due before then never was, so it cannot be missed.
    schedule_since: datetime | None = None


def of(ritual: Ritual) -> StandupOptions:
    return StandupOptions.model_validate(ritual.options or {})


def save(ritual: Ritual, options: StandupOptions) -> None:
    """Store changed settings; a new dict, so the ORM sees the JSON change."""
    ritual.options = options.model_dump(mode="json")


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def days_of(ritual: Ritual) -> tuple[int, ...]:
    return tuple(of(ritual).days)


def days_label(days: tuple[int, ...]) -> str:
    if days == (1, 2, 3, 4, 5):
        return "Mon–Fri"
    if days == (1, 2, 3, 4, 5, 6, 7):
        return "every day"
    return ", ".join(DAY_NAMES[d - 1] for d in days)


def zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def schedule_of(ritual: Ritual, tz: str | None = None) -> Schedule:
    """The ritual's schedule as seen from ``tz`` (a member's zone), same wall-clock time."""
    options = of(ritual)
    return Schedule(
        at=parse_hhmm(options.at),
        days=frozenset(options.days),
        tz=tz or ritual.tz,
        skip_dates=frozenset(date.fromisoformat(d) for d in options.skip_dates),
        country=options.country,
    )


def nominal_time(ritual: Ritual, day: date) -> datetime:
    return local_instant(day, parse_hhmm(of(ritual).at), ritual.tz)


def summary_time(ritual: Ritual, day: date) -> datetime:
    return local_instant(day, parse_hhmm(of(ritual).summary_at), ritual.tz)


def summary_gap(ritual: Ritual) -> timedelta:
    options = of(ritual)
    start, end = parse_hhmm(options.at), parse_hhmm(options.summary_at)
    return timedelta(hours=end.hour - start.hour, minutes=end.minute - start.minute)


def blocker_index(ritual: Ritual) -> int | None:
    return blocker_question_index(of(ritual).questions)
