"""The canvas sentence, generated: whatever belief, result, metric and target people write,
the sentence reads back as what they meant; any text at all gives a command or a clear
usage, never an exception."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.kinds import registry
from rituals.commands import Usage
from rituals.hypothesis import grammar as g

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
_CADENCE = st.sampled_from(["daily", "weekly", "weekly fri", "0 9 * * mon-fri", "*/30 8-18 * * 1"])


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
