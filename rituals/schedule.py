"""Schedule maths: which days a ritual runs and the instant it runs at, in any timezone.

Everything here is pure: callers pass the dates and instants, nothing reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

import holidays as holidays_lib


class SkipReason(StrEnum):
    weekend = "not a ritual day"
    skip_date = "skipped by the team"
    holiday = "public holiday"
    paused = "paused"


@dataclass(frozen=True)
class Schedule:
    """When a ritual runs: local time, weekdays (ISO 1..7), timezone, and days it never runs."""

    at: time
    days: frozenset[int]
    tz: str
    skip_dates: frozenset[date] = field(default_factory=frozenset)
    country: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


def local_instant(day: date, at: time, tz: str) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``tz``.

    A time that does not exist (skipped by a spring-forward change) moves forward by the gap,
    as a wall clock would; a time that happens twice (fall-back) is the first of the two, so a
    ritual runs once either way.
    """
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).replace(fold=0).astimezone(UTC)


@lru_cache(maxsize=64)
def _holiday_calendar(country: str) -> holidays_lib.HolidayBase | None:
    code, _, subdivision = country.partition("-")
    try:
        return holidays_lib.country_holidays(code, subdiv=subdivision or None, language="en_US")
    except (NotImplementedError, KeyError, ValueError):
        return None


def holiday_name(day: date, country: str | None) -> str | None:
    if not country:
        return None
    calendar = _holiday_calendar(country.upper())
    if calendar is None:
        return None
    return calendar.get(day)


def known_country(country: str) -> bool:
    return _holiday_calendar(country.upper()) is not None


def skip_reason(schedule: Schedule, day: date) -> tuple[SkipReason, str] | None:
    """Why the ritual does not run on ``day``, or ``None`` when it does."""
    if day.isoweekday() not in schedule.days:
        return SkipReason.weekend, day.strftime("%A")
    if day in schedule.skip_dates:
        return SkipReason.skip_date, day.isoformat()
    name = holiday_name(day, schedule.country)
    if name:
        return SkipReason.holiday, name
    return None


def run_days(schedule: Schedule, start: date, end: date) -> Iterator[date]:
    """The days in ``[start, end]`` on which the ritual runs."""
    day = start
    while day <= end:
        if skip_reason(schedule, day) is None:
            yield day
        day += timedelta(days=1)


def local_date(instant: datetime, tz: str) -> date:
    return instant.astimezone(ZoneInfo(tz)).date()


def next_run(schedule: Schedule, after: datetime, *, horizon_days: int = 400) -> datetime | None:
    """The first instant strictly after ``after`` at which the ritual runs, in UTC."""
    day = local_date(after, schedule.tz) - timedelta(days=1)
    for _ in range(horizon_days):
        if skip_reason(schedule, day) is None:
            instant = local_instant(day, schedule.at, schedule.tz)
            if instant > after:
                return instant
        day += timedelta(days=1)
    return None


@lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text()
    mapping: dict[str, str] = {}
    for line in table.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) >= 3:
            mapping[parts[2]] = parts[0]
    return mapping


def country_for_timezone(tz: str) -> str | None:
    """The country whose public holidays a ritual in ``tz`` skips by default."""
    return _zone_countries().get(tz)


def previous_run(
    schedule: Schedule, until: datetime, *, horizon_days: int = 400
) -> datetime | None:
    """The last instant at or before ``until`` at which the ritual ran or should have."""
    day = local_date(until, schedule.tz) + timedelta(days=1)
    for _ in range(horizon_days):
        if skip_reason(schedule, day) is None:
            instant = local_instant(day, schedule.at, schedule.tz)
            if instant <= until:
                return instant
        day -= timedelta(days=1)
    return None


def is_timezone(name: str) -> bool:
    """True for an IANA zone name such as Europe/Berlin; never raises on odd input."""
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return False
    return "\x00" not in name


def when_label(instant: datetime, tz: str, now: datetime) -> str:
    """An instant as its reader says it, in their zone: ``10:04`` today, ``tomorrow 10:04``,
    else with its day (``Tue 24 Nov 10:04``), so a time never reads as the wrong day."""
    zone = ZoneInfo(tz)
    local, today = instant.astimezone(zone), now.astimezone(zone).date()
    if local.date() == today:
        return f"{local:%H:%M}"
    if local.date() == today + timedelta(days=1):
        return f"tomorrow {local:%H:%M}"
    return f"{local:%a %d %b %H:%M}"
