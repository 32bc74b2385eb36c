"""Schedule maths pinned to exact UTC instants: DST changes, timezones, skips, holidays."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rituals.schedule import (
    Schedule,
    SkipReason,
    _holiday_calendar,
    country_for_timezone,
    holiday_name,
    is_timezone,
    known_country,
    local_instant,
    next_run,
    previous_run,
    run_days,
    skip_reason,
)

NY = "America/New_York"
BERLIN = "Europe/Berlin"
WEEKDAYS = frozenset({1, 2, 3, 4, 5})
EVERY_DAY = frozenset(range(1, 8))


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def schedule(
    at: time = time(9, 30),
    *,
    tz: str = NY,
    days: frozenset[int] = WEEKDAYS,
    skip: tuple[date, ...] = (),
    country: str | None = None,
) -> Schedule:
    return Schedule(at=at, days=days, tz=tz, skip_dates=frozenset(skip), country=country)


def runs_from(sched: Schedule, start: datetime, count: int) -> list[datetime]:
    """``count`` consecutive runs, each found by ``next_run`` from the one before."""
    found: list[datetime] = []
    cursor = start
    for _ in range(count):
        instant = next_run(sched, cursor)
        assert instant is not None
        found.append(instant)
        cursor = instant
    return found


# --- DST changes in America/New_York: 2026-03-08 (spring forward), 2026-11-01 (fall back) ---


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # spring forward: EST (-5) until Sunday 02:00, EDT (-4) after
        (date(2026, 3, 7), utc(2026, 3, 7, 14, 30)),
        (date(2026, 3, 8), utc(2026, 3, 8, 13, 30)),
        (date(2026, 3, 9), utc(2026, 3, 9, 13, 30)),
        # fall back: EDT (-4) until Sunday 02:00, EST (-5) after
        (date(2026, 10, 31), utc(2026, 10, 31, 13, 30)),
        (date(2026, 11, 1), utc(2026, 11, 1, 14, 30)),
        (date(2026, 11, 2), utc(2026, 11, 2, 14, 30)),
    ],
)
def test_morning_ritual_follows_the_new_york_offset_around_dst_changes(
    day: date, expected: datetime
) -> None:
    assert local_instant(day, time(9, 30), NY) == expected


def test_nonexistent_wall_time_moves_forward_by_the_gap() -> None:
    # 02:30 does not exist on 2026-03-08 in New York: it becomes 03:30 EDT.
    instant = local_instant(date(2026, 3, 8), time(2, 30), NY)
    assert instant == utc(2026, 3, 8, 7, 30)
    assert instant.astimezone(ZoneInfo(NY)).replace(tzinfo=None) == datetime(2026, 3, 8, 3, 30)


def test_ambiguous_wall_time_is_the_first_occurrence() -> None:
    # 01:30 happens twice on 2026-11-01 in New York: 05:30 UTC (EDT), then 06:30 UTC (EST).
    assert local_instant(date(2026, 11, 1), time(1, 30), NY) == utc(2026, 11, 1, 5, 30)


def test_local_instant_is_aware_utc() -> None:
    instant = local_instant(date(2026, 6, 1), time(9, 30), NY)
    assert instant.tzinfo is UTC
    assert instant == utc(2026, 6, 1, 13, 30)


@pytest.mark.parametrize(
    ("at", "saturday", "expected"),
    [
        pytest.param(
            time(9, 30),
            datetime(2026, 3, 7, tzinfo=ZoneInfo(NY)),
            [
                utc(2026, 3, 7, 14, 30),
                utc(2026, 3, 8, 13, 30),
                utc(2026, 3, 9, 13, 30),
                utc(2026, 3, 10, 13, 30),
            ],
            id="09:30-spring-forward",
        ),
        pytest.param(
            time(2, 30),
            datetime(2026, 3, 7, tzinfo=ZoneInfo(NY)),
            [
                utc(2026, 3, 7, 7, 30),  # 02:30 EST
                utc(2026, 3, 8, 7, 30),  # 02:30 does not exist: 03:30 EDT, once
                utc(2026, 3, 9, 6, 30),  # 02:30 EDT
                utc(2026, 3, 10, 6, 30),
            ],
            id="02:30-spring-forward-gap",
        ),
        pytest.param(
            time(9, 30),
            datetime(2026, 10, 31, tzinfo=ZoneInfo(NY)),
            [
                utc(2026, 10, 31, 13, 30),
                utc(2026, 11, 1, 14, 30),
                utc(2026, 11, 2, 14, 30),
                utc(2026, 11, 3, 14, 30),
            ],
            id="09:30-fall-back",
        ),
        pytest.param(
            time(1, 30),
            datetime(2026, 10, 31, tzinfo=ZoneInfo(NY)),
            [
                utc(2026, 10, 31, 5, 30),  # 01:30 EDT
                utc(2026, 11, 1, 5, 30),  # first 01:30 (EDT); the second one (EST) is not a run
                utc(2026, 11, 2, 6, 30),  # 01:30 EST
                utc(2026, 11, 3, 6, 30),
            ],
            id="01:30-fall-back-repeat",
        ),
    ],
)
def test_next_run_steps_once_per_day_across_dst(
    at: time, saturday: datetime, expected: list[datetime]
) -> None:
    runs = runs_from(schedule(at, days=EVERY_DAY), saturday, len(expected))
    assert runs == expected
    local_days = [r.astimezone(ZoneInfo(NY)).date() for r in runs]
    assert local_days == [saturday.date() + timedelta(days=i) for i in range(len(expected))]


@pytest.mark.parametrize(
    ("saturday", "expected"),
    [
        (
            datetime(2026, 3, 7, tzinfo=ZoneInfo(NY)),
            [utc(2026, 3, d, 13, 30) for d in (9, 10, 11, 12, 13, 16)],
        ),
        (
            datetime(2026, 10, 31, tzinfo=ZoneInfo(NY)),
            [utc(2026, 11, d, 14, 30) for d in (2, 3, 4, 5, 6, 9)],
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_next_run_weekdays_only_across_dst(saturday: datetime, expected: list[datetime]) -> None:
    runs = runs_from(schedule(), saturday, len(expected))
    assert runs == expected
    local_days = [r.astimezone(ZoneInfo(NY)).date() for r in runs]
    assert len(set(local_days)) == len(local_days)
    assert all(d.isoweekday() <= 5 for d in local_days)


def test_next_run_after_the_first_of_two_ambiguous_times_does_not_run_again() -> None:
    sched = schedule(time(1, 30), days=EVERY_DAY)
    first = utc(2026, 11, 1, 5, 30)
    second_wall_time = utc(2026, 11, 1, 6, 30)  # 01:30 EST, the repeat of the hour
    assert next_run(sched, first) == utc(2026, 11, 2, 6, 30)
    assert next_run(sched, first - timedelta(seconds=1)) == first
    assert next_run(sched, second_wall_time - timedelta(seconds=1)) == utc(2026, 11, 2, 6, 30)


# --- two timezones -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "berlin", "new_york", "hours_apart"),
    [
        (date(2026, 11, 10), utc(2026, 11, 10, 8, 30), utc(2026, 11, 10, 14, 30), 6),
        # 2026-03-08..03-28: the US is on summer time, the EU (2026-03-29) is not yet
        (date(2026, 3, 10), utc(2026, 3, 10, 8, 30), utc(2026, 3, 10, 13, 30), 5),
        (date(2026, 3, 30), utc(2026, 3, 30, 7, 30), utc(2026, 3, 30, 13, 30), 6),
    ],
)
def test_same_wall_time_in_berlin_and_new_york(
    day: date, berlin: datetime, new_york: datetime, hours_apart: int
) -> None:
    at_berlin = local_instant(day, time(9, 30), BERLIN)
    at_new_york = local_instant(day, time(9, 30), NY)
    assert at_berlin == berlin
    assert at_new_york == new_york
    assert at_new_york - at_berlin == timedelta(hours=hours_apart)


# --- skips ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sched", "day", "expected"),
    [
        (schedule(), date(2026, 11, 28), (SkipReason.weekend, "Saturday")),
        (schedule(), date(2026, 11, 29), (SkipReason.weekend, "Sunday")),
        (
            schedule(skip=(date(2026, 11, 24),)),
            date(2026, 11, 24),
            (SkipReason.skip_date, "2026-11-24"),
        ),
        (schedule(country="US"), date(2026, 11, 26), (SkipReason.holiday, "Thanksgiving Day")),
        # the country code is case-insensitive
        (schedule(country="us"), date(2026, 11, 26), (SkipReason.holiday, "Thanksgiving Day")),
        # a weekend is reported as a weekend even when it is also a skip date
        (
            schedule(skip=(date(2026, 11, 28),)),
            date(2026, 11, 28),
            (SkipReason.weekend, "Saturday"),
        ),
    ],
)
def test_skip_reason(sched: Schedule, day: date, expected: tuple[SkipReason, str]) -> None:
    assert skip_reason(sched, day) == expected


def test_skip_reason_german_holiday() -> None:
    reason = skip_reason(schedule(tz=BERLIN, country="DE"), date(2026, 12, 25))
    assert reason is not None
    assert reason[0] is SkipReason.holiday
    assert reason[1] == "Christmas Day"


@pytest.fixture
def fresh_calendars() -> Iterator[None]:
    """Holiday calendars are cached per process; build them again for this test only."""
    _holiday_calendar.cache_clear()
    yield
    _holiday_calendar.cache_clear()


def holiday_label_under(
    monkeypatch: pytest.MonkeyPatch, lang: str, country: str, day: date
) -> str | None:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", lang)
    _holiday_calendar.cache_clear()
    return holiday_name(day, country)


@pytest.mark.usefixtures("fresh_calendars")
def test_holiday_label_does_not_depend_on_the_server_locale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    labels = {
        lang: (
            holiday_label_under(monkeypatch, lang, "DE", date(2026, 12, 25)),
            holiday_label_under(monkeypatch, lang, "US", date(2026, 11, 26)),
        )
        for lang in ("C.UTF-8", "en_US.UTF-8", "", "de_DE.UTF-8", "th_TH.UTF-8")
    }
    assert len(set(labels.values())) == 1, labels


@pytest.mark.parametrize(
    ("sched", "day"),
    [
        (schedule(), date(2026, 11, 26)),  # Thanksgiving, but no country: runs
        (schedule(country="US"), date(2026, 11, 25)),
        (schedule(tz=BERLIN, country="DE"), date(2026, 11, 26)),  # not a German holiday
        (schedule(days=EVERY_DAY), date(2026, 11, 28)),
    ],
)
def test_skip_reason_none_on_a_run_day(sched: Schedule, day: date) -> None:
    assert skip_reason(sched, day) is None


def test_skip_reason_labels() -> None:
    assert SkipReason.weekend == "not a ritual day"
    assert SkipReason.skip_date == "skipped by the team"
    assert SkipReason.holiday == "public holiday"


def test_run_days_excludes_weekends_skip_dates_and_holidays() -> None:
    sched = schedule(country="US", skip=(date(2026, 11, 24),))
    days = list(run_days(sched, date(2026, 11, 21), date(2026, 12, 1)))
    assert days == [
        date(2026, 11, 23),
        # 24: skip date; 26: Thanksgiving; 28, 29: weekend
        date(2026, 11, 25),
        date(2026, 11, 27),
        date(2026, 11, 30),
        date(2026, 12, 1),
    ]


def test_run_days_germany_over_christmas() -> None:
    sched = schedule(tz=BERLIN, country="DE")
    days = list(run_days(sched, date(2026, 12, 21), date(2027, 1, 1)))
    assert days == [
        date(2026, 12, 21),
        date(2026, 12, 22),
        date(2026, 12, 23),
        date(2026, 12, 24),
        # 25: Erster Weihnachtstag; 26, 27: weekend
        date(2026, 12, 28),
        date(2026, 12, 29),
        date(2026, 12, 30),
        date(2026, 12, 31),
        # 2027-01-01: Neujahr
    ]


def test_run_days_empty_and_single_day_ranges() -> None:
    sched = schedule()
    assert list(run_days(sched, date(2026, 11, 3), date(2026, 11, 2))) == []
    assert list(run_days(sched, date(2026, 11, 3), date(2026, 11, 3))) == [date(2026, 11, 3)]


def test_subdivision_code_adds_state_holidays() -> None:
    # The holidays library accepts "US-CA": California adds Cesar Chavez Day and the day
    # after Thanksgiving, which the federal calendar does not have.
    assert known_country("US-CA")
    assert known_country("us-ca")
    assert holiday_name(date(2026, 3, 31), "US-CA") == "Cesar Chavez Day"
    assert holiday_name(date(2026, 3, 31), "US") is None
    assert holiday_name(date(2026, 11, 27), "US-CA") == "Day After Thanksgiving"
    assert holiday_name(date(2026, 11, 27), "US") is None
    assert skip_reason(schedule(tz="America/Los_Angeles", country="US-CA"), date(2026, 3, 31)) == (
        SkipReason.holiday,
        "Cesar Chavez Day",
    )


@pytest.mark.parametrize("code", ["ZZ", "zz", "US-ZZ", "XX-CA"])
def test_unknown_country_is_not_known(code: str) -> None:
    assert not known_country(code)


@pytest.mark.parametrize("code", ["US", "DE", "GB", "US-CA"])
def test_known_country(code: str) -> None:
    assert known_country(code)


def test_unknown_country_skips_no_holidays() -> None:
    sched = schedule(tz=BERLIN, country="ZZ")
    assert holiday_name(date(2026, 12, 25), "ZZ") is None
    assert skip_reason(sched, date(2026, 12, 25)) is None
    assert list(run_days(sched, date(2026, 12, 24), date(2026, 12, 25))) == [
        date(2026, 12, 24),
        date(2026, 12, 25),
    ]


# --- next_run / previous_run ---------------------------------------------------------------


def test_next_run_is_strictly_after() -> None:
    sched = schedule(country="US")
    run = utc(2026, 11, 25, 14, 30)
    assert next_run(sched, run - timedelta(microseconds=1)) == run
    # exactly at a run: the next one, skipping Thanksgiving
    assert next_run(sched, run) == utc(2026, 11, 27, 14, 30)


def test_next_run_skips_the_weekend() -> None:
    friday_run = utc(2026, 11, 6, 14, 30)
    assert next_run(schedule(), friday_run) == utc(2026, 11, 9, 14, 30)


def test_next_run_from_late_evening_utc_that_is_still_the_previous_local_day() -> None:
    # 2026-11-10 02:00 UTC is 2026-11-09 21:00 in New York: the next run is 11-10 09:30 local.
    assert next_run(schedule(), utc(2026, 11, 10, 2)) == utc(2026, 11, 10, 14, 30)


def test_previous_run_at_or_before() -> None:
    sched = schedule(country="US")
    run = utc(2026, 11, 27, 14, 30)
    assert previous_run(sched, run) == run  # exactly at counts
    assert previous_run(sched, run + timedelta(hours=5)) == run
    # just before Friday's run: Thursday is Thanksgiving, so Wednesday
    assert previous_run(sched, run - timedelta(microseconds=1)) == utc(2026, 11, 25, 14, 30)


def test_previous_run_skips_weekend_and_holiday() -> None:
    sched = schedule(tz=BERLIN, country="DE")
    # Monday 2026-12-28 08:00 Berlin, before the 09:30 run: Fri 25 is a holiday, so Thu 24
    assert previous_run(sched, utc(2026, 12, 28, 7)) == utc(2026, 12, 24, 8, 30)


def test_previous_run_across_spring_forward() -> None:
    sched = schedule(time(2, 30), days=EVERY_DAY)
    assert previous_run(sched, utc(2026, 3, 8, 7, 30)) == utc(2026, 3, 8, 7, 30)
    assert previous_run(sched, utc(2026, 3, 8, 7, 29)) == utc(2026, 3, 7, 7, 30)
    assert previous_run(sched, utc(2026, 3, 9, 6, 29)) == utc(2026, 3, 8, 7, 30)


def test_no_run_within_the_horizon() -> None:
    never = schedule(days=frozenset())
    assert next_run(never, utc(2026, 1, 1, 0)) is None
    assert previous_run(never, utc(2026, 1, 1, 0)) is None


# --- timezones and countries ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "country"),
    [(BERLIN, "DE"), (NY, "US"), ("America/Los_Angeles", "US"), ("UTC", None)],
)
def test_country_for_timezone(tz: str, country: str | None) -> None:
    assert country_for_timezone(tz) == country


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"])
def test_is_timezone_true_for_real_zones(name: str) -> None:
    assert is_timezone(name)


@pytest.mark.parametrize(
    "name",
    [
        "Not/AZone",
        "../../etc/passwd",
        "/etc/passwd",
        "",
        "Europe/Berlin\x00",
        "Europe",  # a directory, not a zone
        "Europe/",
        "x" * 5000,
        "Europe/" + "A" * 300,
        "\ud800",
    ],
    ids=repr,
)
def test_is_timezone_false_for_bad_names(name: str) -> None:
    assert is_timezone(name) is False


@given(st.text())
def test_is_timezone_never_raises(name: str) -> None:
    assert isinstance(is_timezone(name), bool)


ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "America/Santiago",  # changes at midnight
    "Asia/Kolkata",
    "UTC",
]


@given(
    day=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    at=st.times(),
    tz=st.sampled_from(ZONES),
)
def test_local_instant_round_trips_to_the_wall_time(day: date, at: time, tz: str) -> None:
    zone = ZoneInfo(tz)
    instant = local_instant(day, at, tz)
    assert instant.tzinfo is UTC
    back = instant.astimezone(zone)
    assert back.date() == day
    later_by = datetime.combine(day, back.time()) - datetime.combine(day, at)
    assert timedelta(0) <= later_by <= timedelta(hours=1)
    # A wall time is in a gap when the offset before the change (fold=0) is smaller than
    # the one after (fold=1); only then may the run be later, and by exactly the gap.
    before = datetime.combine(day, at, tzinfo=zone).utcoffset()
    after = datetime.combine(day, at, tzinfo=zone).replace(fold=1).utcoffset()
    assert before is not None
    assert after is not None
    in_gap = before < after
    assert later_by == (after - before if in_gap else timedelta(0))


def test_a_time_names_its_day_when_it_is_not_today_in_the_readers_zone() -> None:
    from rituals.schedule import when_label

    now = datetime(2026, 11, 23, 18, 35, tzinfo=UTC)  # 19:35 in Berlin, Monday
    assert when_label(now + timedelta(hours=2), "Europe/Berlin", now) == "21:35"
    assert when_label(now + timedelta(hours=14, minutes=29), "Europe/Berlin", now) == (
        "tomorrow 10:04"
    )
    assert when_label(now + timedelta(days=3), "Europe/Berlin", now) == "Thu 26 Nov 19:35"
    # 21:35 in Berlin is already Tuesday in Tokyo
    assert when_label(now + timedelta(hours=2), "Asia/Tokyo", now) == "05:35"
