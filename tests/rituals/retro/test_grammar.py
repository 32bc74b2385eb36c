"""The retro words: what parses to what, what is refused and why, and properties for any text."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.kinds import registry
from rituals.commands import Command, Help, Usage
from rituals.commands.grammar import MAX_LENGTH
from rituals.retro.formats import CATEGORIES, RetroFormat
from rituals.retro.grammar import (
    MAX_ITEM,
    RetroActions,
    RetroAdd,
    RetroAddAlone,
    RetroClose,
    RetroDone,
    RetroReveal,
    RetroSchedule,
    RetroStart,
    RetroUnschedule,
    RetroVote,
)

PROPERTY = settings(max_examples=200, deadline=None)
parse = registry().grammar.parse
POSTMORTEM = RetroFormat.postmortem

GOOD = [
    ("retro", Help("retro")),
    ("help retro", Help("retro")),
    ("retro start", RetroStart()),
    ("/retro start Sprint 14 retro", RetroStart("Sprint 14 retro")),
    ("retro start  Sprint   14 ", RetroStart("Sprint   14")),
    ("retro start format ssc", RetroStart(format=RetroFormat.ssc)),
    ("retro start Q3 format 4LS", RetroStart("Q3", format=RetroFormat.four_ls)),
    ("retro start Outage format postmortem named", RetroStart("Outage", POSTMORTEM, False)),
    ("retro start Sprint 9 hidden anon", RetroStart("Sprint 9", anonymous=True, hidden=True)),
    ("retro start named hidden format ssc", RetroStart("", RetroFormat.ssc, False, True)),
    ("retro start Sprint 9 votes 5", RetroStart("Sprint 9", votes=5)),
    ("retro start Discuss format", RetroStart("Discuss format")),
    ("retro start hidden gems of Q3", RetroStart("hidden gems of Q3")),
    ("retro add", RetroAddAlone()),
    ("retro add well Shipped the ranker", RetroAdd("well", "Shipped the ranker")),
    ("retro add IMPROVE flaky CI anon", RetroAdd("improve", "flaky CI", True)),
    ("retro add well: tidy evals", RetroAdd("well", "tidy evals")),
    ("retro add idea anon feedback form", RetroAdd("idea", "anon feedback form")),
    ("retro add action docs by 2030-01-10 ANON", RetroAdd("action", "docs by 2030-01-10", True)),
    ("retro add liked 🎉 مرحبا", RetroAdd("liked", "🎉 مرحبا")),
    ("retro add meh it was fine", RetroAdd("meh", "it was fine")),
    ("retro add well line one\nline two", RetroAdd("well", "line one\nline two")),
    ("retro vote 3", RetroVote(3)),
    ("retro vote #3", RetroVote(3)),
    ("retro reveal", RetroReveal()),
    ("retro close", RetroClose()),
    ("retro actions", RetroActions()),
    ("retro done A3", RetroDone(3)),
    ("retro done a3", RetroDone(3)),
    ("retro done #12", RetroDone(12)),
    ("retro done 12", RetroDone(12)),
    ("retro schedule every 2 weeks on fri at 15:00", RetroSchedule(2, 5, time(15, 0))),
    ("retro schedule every week on Monday at 9:30", RetroSchedule(1, 1, time(9, 30))),
    ("retro schedule on thu at 10:00 every 3", RetroSchedule(3, 4, time(10, 0))),
    (
        "retro schedule every 2 weeks on fri at 15:00 tz europe/berlin",
        RetroSchedule(2, 5, time(15, 0), "Europe/Berlin"),
    ),
    ("retro schedule off", RetroUnschedule()),
]  # fmt: skip

BAD = [
    ("retro start x format wars", "format must be one of default, ssc, 4ls, postmortem"),
    ("retro start anon named", "choose anon or named, once"),
    ("retro start hidden hidden", "'hidden' is given twice"),
    ("retro start votes 0", "votes must be a whole number from 1 to 20"),
    ("retro start " + "t" * 301, "title is too long"),
    ("retro add well", "text is missing"),
    ("retro add well anon", "text is missing"),
    ("retro add w!ll it", "expected a category word like well or improve"),
    ("retro add well " + "x" * (MAX_ITEM + 1), f"the limit is {MAX_ITEM}"),
    ("retro vote", "missing id"),
    ("retro vote abc", "not 'abc'"),
    ("retro vote 0", "there is no #0"),
    ("retro vote 3 4", "unexpected '4'"),
    ("retro close now", "unexpected 'now'"),
    ("retro done", "missing action id"),
    ("retro done B3", "expected an action item id like A3"),
    ("retro schedule", "missing 'every N weeks'"),
    ("retro schedule every 2 weeks at 15:00", "missing 'on DAY'"),
    ("retro schedule every 2 weeks on fri", "missing 'at HH:MM'"),
    ("retro schedule every 13 weeks on fri at 15:00", "weeks must be a whole number from 1 to 12"),
    ("retro schedule every 2 fortnights on fri at 15:00", "every takes a number of weeks"),
    ("retro schedule every week on fri-sat at 15:00", "unknown day"),
    ("retro schedule every week on fri at 25:00", "a time like 9:30"),
    ("retro schedule every week on fri at 15:00 tz Mars/Base", "unknown timezone"),
    ("retro vot 3", "did you mean 'vote'"),
]


@pytest.mark.parametrize(("text", "expected"), GOOD, ids=[t for t, _ in GOOD])
def test_parses(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(("text", "error"), BAD, ids=[t[:60] for t, _ in BAD])
def test_refuses_with_the_reason_and_a_correct_example(text: str, error: str) -> None:
    result = parse(text)
    assert isinstance(result, Usage), result
    assert error in result.error
    assert result.topic == "retro"
    assert not isinstance(parse(result.example), Usage)


def test_an_oversize_item_is_refused_without_echoing_it() -> None:
    secret = "confidential " * 300
    result = parse(f"retro add improve {secret}")
    assert isinstance(result, Usage)
    assert "confidential" not in result.error + result.example


def test_every_format_has_one_action_category() -> None:
    for fmt, categories in CATEGORIES.items():
        assert sum(c.actions for c in categories) == 1, fmt
        assert len({c.word for c in categories}) == len(categories)


# --- properties --------------------------------------------------------------------------

any_char = st.characters(exclude_categories=())
retro_verbs = st.sampled_from(
    [
        "start",
        "add",
        "vote",
        "reveal",
        "close",
        "actions",
        "done",
        "schedule",
        "add well",
        "start x",
    ]
)
WORDS = [
    "format", "ssc", "4ls", "postmortem", "anon", "named", "hidden", "votes", "3", "#3", "A3",
    "every", "weeks", "week", "on", "fri", "at", "15:00", "tz", "Europe/Berlin", "off", "well",
]  # fmt: skip
tails = st.text(alphabet=any_char, max_size=300) | st.builds(
    " ".join, st.lists(st.sampled_from(WORDS) | st.text(alphabet=any_char, max_size=6), max_size=12)
)


@PROPERTY
@given(verb=retro_verbs, tail=tails)
def test_parse_never_raises_and_every_usage_example_parses(verb: str, tail: str) -> None:
    result = parse(f"retro {verb} {tail}")
    assert isinstance(result, Command | Usage)
    if isinstance(result, Usage):
        assert result.error
        assert not isinstance(parse(result.example), Usage), result


@PROPERTY
@given(st.text(alphabet=any_char, max_size=MAX_LENGTH + 10))
def test_parse_never_raises_on_arbitrary_retro_text(text: str) -> None:
    assert isinstance(parse("retro " + text), Command | Usage)


item_text = st.text(
    alphabet=st.characters(exclude_categories=("Cc", "Cs")) | st.sampled_from("\t\n"),
    min_size=1,
    max_size=MAX_ITEM,
).filter(lambda s: s.strip() and s.split()[-1].lower() != "anon")
categories = st.sampled_from(sorted({c.word for cs in CATEGORIES.values() for c in cs}))


@PROPERTY
@given(category=categories, text=item_text, anonymous=st.booleans())
def test_item_text_survives(category: str, text: str, anonymous: bool) -> None:
    line = f"retro add {category} {text}" + (" anon" if anonymous else "")
    assert parse(line) == RetroAdd(category, text.strip(), anonymous)


title_text = st.text(
    alphabet=st.characters(exclude_categories=("C", "Z")), min_size=1, max_size=40
).filter(lambda s: s.lower() not in ("anon", "named", "hidden", "format", "votes"))


@PROPERTY
@given(
    title=st.lists(title_text, min_size=1, max_size=6).map(" ".join),
    fmt=st.sampled_from(RetroFormat),
    anonymous=st.booleans(),
    hidden=st.booleans(),
)
def test_start_options_come_off_the_title(
    title: str, fmt: RetroFormat, anonymous: bool, hidden: bool
) -> None:
    options = f" format {fmt.value} {'anon' if anonymous else 'named'}" + (
        " hidden" if hidden else ""
    )
    assert parse(f"retro start {title}{options}") == RetroStart(title, fmt, anonymous, hidden)


@PROPERTY
@given(item=st.integers(1, 2**31 - 1), prefix=st.sampled_from(["", "#"]))
def test_vote_ids_round_trip(item: int, prefix: str) -> None:
    assert parse(f"retro vote {prefix}{item}") == RetroVote(item)
