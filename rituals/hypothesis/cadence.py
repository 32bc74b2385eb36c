"""When an owner is asked for a check-in: daily or weekly at 09:00 in the owner's own zone,
or at the times a cron expression names there. Pure: callers pass the instants."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from rituals.commands.model import WEEKDAYS
from rituals.schedule import Schedule, next_run

ASK_AT = time(9, 0)
_CRON_DAY = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def next_checkin(cadence: str, tz: str, after: datetime) -> datetime | None:
    """The first check-in strictly after ``after``, in UTC."""
    if cadence == "daily":
        return next_run(Schedule(ASK_AT, frozenset(range(1, 8)), tz), after)
    if cadence.startswith("weekly"):
        day = cadence.split()[1] if " " in cadence else "mon"
        return next_run(Schedule(ASK_AT, frozenset({WEEKDAYS.index(day) + 1}), tz), after)
    minute, hour, dom, month, dow = cadence.split()
    trigger = CronTrigger(
        minute=minute,
        hour=hour,
        day=dom,
        month=month,
        day_of_week=_days(dow),
        timezone=ZoneInfo(tz),
    )
    fire = trigger.get_next_fire_time(None, after + timedelta(seconds=1))
    return None if fire is None else fire.astimezone(ZoneInfo("UTC"))


def _days(field: str) -> str:
    """Cron counts days from Sunday (0 or 7); APScheduler 3 from Monday and takes no step
    on day names, so the field becomes the list of day names it means, read the cron way."""
    days: dict[str, None] = {}
    for part in field.split(","):
        span, _, step = part.partition("/")
        first, dash, last = span.partition("-")
        if first == "*":
            start, end = 0, 6
        else:
            start = _day(first)
            end = _day(last, last=True) if dash else 7 if step else start
        for day in range(start, end + 1, int(step or 1)):
            days[_CRON_DAY[day % 8]] = None
    return ",".join(days)


def _day(token: str, *, last: bool = False) -> int:
    """A cron day number; Sunday ends a range as 7 (fri-sun) and starts one as 0."""
    if token.isdigit():
        return int(token)
    return 7 if last and token == "sun" else _CRON_DAY.index(token)


def valid(cadence: str, tz: str, now: datetime) -> bool:
    """A cron the grammar let through may still name no time at all (31 February)."""
    try:
        return next_checkin(cadence, tz, now) is not None
    except (ValueError, KeyError):
        return False


def describe(cadence: str) -> str:
    if cadence == "daily":
        return "daily at 09:00"
    if cadence.startswith("weekly"):
        day = cadence.split()[1] if " " in cadence else "mon"
        return f"weekly on {day.capitalize()} at 09:00"
    return f"cron `{cadence}`"
