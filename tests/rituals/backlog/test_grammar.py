"""The backlog words: what parses to what, what is refused and why, and properties: filters
round-trip through the text a button carries, any order of filters means the same list,
and any text gets a command or a usage, never an exception."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.kinds import registry
from rituals.backlog import grammar as g
from rituals.commands import Command, Usage

PROPERTY = settings(max_examples=200, deadline=None)
parse = registry().grammar.parse
F = g.Filters

GOOD = [
    ("backlog list open data @ana", g.BacklogList(F(phase="open", type="data", owner="ana"))),
    ("backlog list p0 mine page 3", g.BacklogList(F(mine=True, priority=0), 3)),
    ("backlog list sprint Sprint 15", g.BacklogList(F(sprint="Sprint 15"))),
    ("backlog list done sprint S 15 page 2", g.BacklogList(F(phase="done", sprint="S 15"), 2)),
    ("backlog list <@U1> eval", g.BacklogList(F(type="eval", owner="U1"))),
    ("backlog doing #4", g.BacklogDoing(4)),
    ("backlog drop 4", g.BacklogDrop(4)),
    ("backlog reopen 4", g.BacklogReopen(4)),
    ("backlog edit 4 Dedup  clicks", g.BacklogEdit(4, "Dedup  clicks")),
    ("backlog show #9", g.BacklogShow(9)),
    ("backlog sprint 7 none", g.BacklogSprint(7, "none")),
    (
        "backlog sprint start Sprint 15 until 2030-01-24 Ship ranker v4",
        g.BacklogSprintStart("Sprint 15", date(2030, 1, 24), "Ship ranker v4"),
    ),
    ("backlog sprint START S1 UNTIL 2030-01-24", g.BacklogSprintStart("S1", date(2030, 1, 24))),
    ("backlog sprint close", g.BacklogSprintClose()),
    ("backlog export", g.BacklogExport()),
    ("backlog export done data", g.BacklogExport(F(phase="done", type="data"))),
    ("backlog lead @ana", g.BacklogLead("ana")),
    ("backlog coleads @ana @ben", g.BacklogColeads(("ana", "ben"))),
]

BAD = [
    ("backlog list page 0", "page must be a whole number from 1 to 10000"),
    ("backlog list data page x", "page must be a whole number"),
    ("backlog list open done", "one state at a time"),
    ("backlog list p1 p2", "one priority at a time"),
    ("backlog list sprint", "sprint name is missing"),
    ("backlog list sprint " + "s" * 101, "sprint name is too long"),
    ("backlog edit 4", "missing title"),
    ("backlog edit 4 " + "x" * 301, "title is too long: 301 characters, the limit is 300"),
    ("backlog doing", "missing id"),
    ("backlog drop 0", "there is no #0"),
    ("backlog sprint start until 2030-01-24", "sprint name is missing"),
    ("backlog sprint start S1 until", "missing the sprint's last day"),
    ("backlog sprint start S1 until tomorrow", "YYYY-MM-DD"),
    ("backlog sprint start S1 until 2030-01-24 " + "g" * 301, "goal is too long"),
    ("backlog sprint close now", "unexpected 'now'"),
    ("backlog export sideways", "not 'sideways'"),
]


@pytest.mark.parametrize(("text", "expected"), GOOD)
def test_parses(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(("text", "error"), BAD)
def test_refuses_with_the_reason(text: str, error: str) -> None:
    result = parse(text)
    assert isinstance(result, Usage), result
    assert error in result.error
    assert result.example.startswith("backlog ")


sprint_names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,30}[A-Za-z0-9]", fullmatch=True)
user_names = st.from_regex(r"[a-z][a-z0-9._-]{0,15}", fullmatch=True)
filters = st.builds(
    F,
    phase=st.none() | st.sampled_from(["open", "done"]),
    mine=st.booleans(),
    type=st.none() | st.sampled_from(g.TYPES),
    priority=st.none() | st.integers(0, 3),
    owner=st.none() | user_names,
    sprint=st.none() | sprint_names,
).filter(lambda f: not (f.mine and f.owner))


@PROPERTY
@given(filters=filters, page=st.integers(1, g.MAX_PAGE))
def test_filters_round_trip_through_their_words(filters: F, page: int) -> None:
    """What a Next button carries reads back as the very same filters."""
    words = filters.words()
    suffix = f" page {page}" if page > 1 else ""
    parsed = parse(f"backlog list {words}{suffix}")
    assert parsed == g.BacklogList(filters, page)
    assert g.filters(words.split(), words) == filters


@PROPERTY
@given(filters=filters, data=st.data())
def test_the_order_of_filters_does_not_matter(filters: F, data: st.DataObject) -> None:
    head = F(**{**vars(filters), "sprint": None}).words().split()
    tail = f" sprint {filters.sprint}" if filters.sprint else ""
    shuffled = data.draw(st.permutations(head))
    assert parse(f"backlog list {' '.join(shuffled)}{tail}") == g.BacklogList(filters)


@PROPERTY
@given(
    kind=st.none() | st.sampled_from(g.TYPES),
    priority=st.none() | st.integers(0, 3),
    title=st.from_regex(r"[A-Za-z][A-Za-z0-9 ,.'-]{0,80}[a-z]", fullmatch=True),
    owner=st.none() | user_names,
)
def test_add_round_trips(
    kind: str | None, priority: int | None, title: str, owner: str | None
) -> None:
    words = [*([kind] if kind else []), *([f"p{priority}"] if priority is not None else [])]
    text = " ".join(["backlog add", *words, title, *([f"@{owner}"] if owner else [])])
    first = title.split()[0].lower()
    if first in g.TYPES or re.fullmatch("p[0-3]", first):
        return  # a title starting like a type or priority reads as one, as documented
    assert parse(text) == g.BacklogAdd(title, kind, priority, owner)


@PROPERTY
@given(text=st.text(max_size=300))
def test_any_text_after_a_verb_is_a_command_or_a_usage(text: str) -> None:
    for verb in ("list", "export", "sprint", "sprint start", "edit 3", "add", "doing"):
        assert isinstance(parse(f"backlog {verb} {text}"), Command | Usage)
