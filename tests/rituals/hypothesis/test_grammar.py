"""The canvas sentence, generated: whatever belief, result, metric and target people write,
the sentence reads back as what they meant; any text at all gives a command or a clear
usage, never an exception."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.kinds import registry
from rituals.commands import Usage
from rituals.hypothesis import grammar as g
from rituals.hypothesis.cadence import valid

parse = registry().grammar.parse
PROPERTY = settings(max_examples=200, deadline=None)

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_0123456789", min_size=1, max_size=12)
_PHRASE = (
    st.lists(_WORD, min_size=1, max_size=6)
    .map(" ".join)
    .filter(
        lambda s: (
            not any(
                bad in f" {s} "
                for bad in (" will ", " result ", " know ", " when ", " in ", " we ")
            )
        )
    )
)
_METRIC = st.from_regex(r"[a-z][a-z0-9@_\-]{0,20}", fullmatch=True)
_TARGET = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)
_CADENCE = st.sampled_from(["daily", "weekly", "weekly fri", "0 9 * * mon-fri", "30 8-18 * * 1"])


@PROPERTY
@given(
    belief=_PHRASE,
    result=_PHRASE,
    metric=_METRIC,
    op=st.sampled_from(["<", "<=", ">", ">=", "=", "=="]),
    target=_TARGET,
    by=st.none() | st.dates(date(2000, 1, 1), date(2100, 12, 31)),
    cadence=st.none() | _CADENCE,
    owner=st.none() | st.from_regex(r"[a-z][a-z0-9.]{0,15}", fullmatch=True),
    baseline=st.none() | _TARGET,
    separator=st.sampled_from(["; ", ", ", ". ", " "]),
)
def test_the_canvas_sentence_reads_back_as_written(
    belief: str,
    result: str,
    metric: str,
    op: str,
    target: float,
    by: date | None,
    cadence: str | None,
    owner: str | None,
    baseline: float | None,
    separator: str,
) -> None:
    line = (
        f"hypothesis add We believe {belief} will result in {result}{separator}"
        f"we'll know when {metric} {op} {target!r}"
    )
    if by is not None:
        line += f" by {by.isoformat()}"
    if cadence is not None:
        line += f" checkin {cadence}"
    if owner is not None:
        line += f" owner @{owner}"
    if baseline is not None:
        line += f" baseline {baseline!r}"
    parsed = parse(line)
    assert parsed == g.HypothesisAdd(
        belief,
        result,
        metric,
        op,
        target,
        by,
        cadence or "weekly",
        owner,
        baseline,
    ), line


@PROPERTY
@given(st.text(max_size=300))
def test_any_text_after_add_is_a_command_or_a_usage(tail: str) -> None:
    parsed = parse("hypothesis add " + tail)
    assert isinstance(parsed, g.HypothesisAdd | Usage)
    if isinstance(parsed, g.HypothesisAdd):
        assert len(parsed.belief) <= 1000 and len(parsed.metric) <= 100


@PROPERTY
@given(
    number=st.integers(1, 2**31 - 1),
    status=st.sampled_from(list(g.HypothesisStatus)),
    value=_TARGET,
    note=_PHRASE,
)
def test_a_check_in_reads_back(number: int, status: str, value: float, note: str) -> None:
    parsed = parse(f"hypothesis checkin {number} {status} precision={value!r} {note}")
    assert parsed == g.HypothesisCheckin(
        number, g.HypothesisStatus(status), (("precision", value),), note
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("hypothesis list", g.HypothesisList(g.HypothesisScope.open)),
        ("hypothesis list ALL", g.HypothesisList(g.HypothesisScope.all)),
        ("hypothesis show #3", g.HypothesisShow(3)),
        ("hypothesis digest", g.HypothesisDigest()),
        ("hypothesis digest off", g.HypothesisDigest(off=True)),
        ("hypothesis digest Friday 4pm", g.HypothesisDigest(5, time(16, 0))),
    ],
)
def test_the_other_verbs(line: str, expected: object) -> None:
    assert parse(line) == expected


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("hypothesis list open mine", "unexpected 'mine'"),
        ("hypothesis show", "missing id"),
        ("hypothesis digest fri", "missing time"),
        ("hypothesis digest someday 9:00", "unknown day"),
        (
            "hypothesis add We believe x will result in y; we'll know when a>1 model two words",
            "one word",
        ),
        (
            "hypothesis add We believe x will result in y; we'll know when a>1 baseline lots",
            "'lots'",
        ),
        (
            "hypothesis add We believe x will result in y; we'll know when a>1 checkin weekly on",
            "unknown day",
        ),
    ],
)
def test_bad_verbs_say_what_is_wrong(line: str, error: str) -> None:
    parsed = parse(line)
    assert isinstance(parsed, Usage) and error in parsed.error


_CRON_ATOM = st.one_of(
    st.sampled_from(["*", "mon", "fri", "sun", "jan", "dec", "x"]),
    st.integers(0, 10**25).map(str),
)
_CRON_PART = st.tuples(
    _CRON_ATOM,
    st.none() | _CRON_ATOM,
    st.none() | st.integers(0, 99),
).map(lambda p: p[0] + (f"-{p[1]}" if p[1] else "") + (f"/{p[2]}" if p[2] is not None else ""))
_CRON = st.lists(
    st.lists(_CRON_PART, min_size=1, max_size=4).map(",".join), min_size=5, max_size=5
).map(" ".join)
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


@PROPERTY
@given(cron=_CRON)
def test_a_cron_is_refused_or_names_only_values_in_range_at_most_hourly(cron: str) -> None:
    """Every number of an accepted cron lies in its field's range, so no scheduler expands a
    range of billions; it fits the column, and names one minute of the hour."""
    parsed = parse(
        f"hypothesis add We believe x will result in y; we'll know when a>1 checkin {cron}"
    )
    assert isinstance(parsed, g.HypothesisAdd | Usage)
    if isinstance(parsed, Usage):
        assert "cron" in parsed.error
        return
    fields = parsed.checkin.split()
    assert len(parsed.checkin) <= 100 and fields[0].isdigit()
    for field, (low, high) in zip(fields, _RANGES, strict=True):
        for n in re.findall(r"(?<![/0-9])[0-9]+", field):
            assert low <= int(n) <= high, parsed.checkin
    valid(parsed.checkin, "Europe/Berlin", datetime(2030, 1, 7, tzinfo=UTC))
