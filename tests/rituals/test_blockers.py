"""How free-text blocker answers are read: nothing, a new blocker, resolutions, mentions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rituals.standup.blockers import BlockerAnswer, blocker_question_index, mentioned, read

NOTHING = BlockerAnswer()
RESOLVE_ALL = BlockerAnswer(resolve_all=True)


@pytest.mark.parametrize(
    "text",
    [
        "none",
        "None.",
        "No blockers.",
        "no blocker",
        "n/a",
        "N/A",
        "na",
        "-",
        "---",
        "nope!",
        "Nothing blocking me",
        "all good",
        "No impediments",
        "  none  \n",
        "",
        "   ",
    ],
)
def test_no_blocker_answers_mean_nothing(text: str) -> None:
    assert read(text) == NOTHING


@pytest.mark.parametrize(
    "text", ["same", "Same as yesterday", "still blocked", "Still the same.", "unchanged"]
)
def test_unchanged_answers_open_nothing_new(text: str) -> None:
    assert read(text) == NOTHING


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Waiting on GPU quota from @omar",
            BlockerAnswer(new_text="Waiting on GPU quota from @omar", unblocker="omar"),
        ),
        (
            "<@U123ABC> owes me access",
            BlockerAnswer(new_text="<@U123ABC> owes me access", unblocker="U123ABC"),
        ),
        # Slack's mention with a label: the id, not the label
        (
            "<@U123ABC|omar> owes me access",
            BlockerAnswer(new_text="<@U123ABC|omar> owes me access", unblocker="U123ABC"),
        ),
        # the first person mentioned is the unblocker
        (
            "@li then @omar need to sign off",
            BlockerAnswer(new_text="@li then @omar need to sign off", unblocker="li"),
        ),
        (
            "  flaky eval cluster, no owner  ",
            BlockerAnswer(new_text="flaky eval cluster, no owner"),
        ),
        (
            "ask bob@example.com",
            BlockerAnswer(new_text="ask bob@example.com"),
        ),
        (
            "ping first.last@example.com about the bucket",
            BlockerAnswer(new_text="ping first.last@example.com about the bucket"),
        ),
    ],
)
def test_new_blocker(text: str, expected: BlockerAnswer) -> None:
    assert read(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("resolved", RESOLVE_ALL),
        ("Resolved.", RESOLVE_ALL),
        ("unblocked!", RESOLVE_ALL),
        ("FIXED", RESOLVE_ALL),
        ("resolved #12", BlockerAnswer(resolve_id=12)),
        ("Resolved #7.", BlockerAnswer(resolve_id=7)),
        ("resolved, no blockers", RESOLVE_ALL),
        ("resolved - all good", RESOLVE_ALL),
        (
            "resolved, but now the dataset is missing @li",
            BlockerAnswer(
                resolve_all=True, new_text="but now the dataset is missing @li", unblocker="li"
            ),
        ),
        (
            "resolved #3; now waiting on <@U999>",
            BlockerAnswer(resolve_id=3, new_text="now waiting on <@U999>", unblocker="U999"),
        ),
    ],
)
def test_resolutions(text: str, expected: BlockerAnswer) -> None:
    assert read(text) == expected


def test_resolved_as_part_of_a_word_is_not_a_resolution() -> None:
    assert read("resolvedness of the DNS is flaky") == BlockerAnswer(
        new_text="resolvedness of the DNS is flaky"
    )


@pytest.mark.parametrize(
    ("text", "unblocker"),
    [
        ("ask bob@example.com", None),
        ("mail ops-team@example.com", None),
        ("waiting on @omar, then @li", "omar"),
        ("waiting on @omar's review", "omar"),
        ("(@omar)", "omar"),
        ("<@U123ABC>", "U123ABC"),
        ("no mention here", None),
    ],
)
def test_mentioned(text: str, unblocker: str | None) -> None:
    assert mentioned(text) == unblocker


@pytest.mark.parametrize("text", ["Need review from @li.", "blocked until @li. Ping her"])
def test_mention_before_a_full_stop_is_the_name(text: str) -> None:
    assert read(text).unblocker == "li"


@pytest.mark.parametrize(
    "text", ["Fixed it!", "unblocked now", "resolved, no new blockers", "resolved, nothing new"]
)
def test_resolution_with_filler_opens_no_new_blocker(text: str) -> None:
    assert read(text) == RESOLVE_ALL


def test_long_blocker_id_is_not_cut() -> None:
    answer = read("resolved #1234567890")
    assert answer.resolve_id in (None, 1234567890)
    assert answer.new_text != "0"


@pytest.mark.parametrize(
    ("questions", "index"),
    [
        (["What did you do?", "What will you do?", "Anything blocking you?"], 2),
        (["Blockers?", "What did you do?", "What will you do?"], 0),
        (["Yesterday?", "Any impediments?", "Today?"], 1),
        (["Yesterday?", "Where are you stuck?", "Today?"], 1),
        (["Yesterday?", "Today?", "Mood?"], None),
        (["Only question?"], None),
        # the first question that mentions blocking wins
        (["What blocked you?", "Still stuck?"], 0),
    ],
)
def test_blocker_question_index(questions: list[str], index: int | None) -> None:
    assert blocker_question_index(questions) == index


def check_read(text: str) -> None:
    """``read`` does not raise, and what it returns is consistent."""
    answer = read(text)
    if answer.new_text is not None:
        assert answer.new_text
        assert answer.new_text == answer.new_text.strip()
    if answer.unblocker is not None:
        assert answer.new_text is not None
        assert answer.unblocker in answer.new_text
    assert not (answer.resolve_all and answer.resolve_id is not None)


@given(st.text())
def test_read_never_raises_and_new_text_is_clean(text: str) -> None:
    check_read(text)


ANSWER_LIKE = st.lists(
    st.sampled_from(
        [
            *("resolved", "fixed", "#12", "none", "same", "still", "blocked", "n/a"),
            *("@li", "<@U1>", "<@U2|x>", "@", "#", ".", ",", "-", "!"),
            *(" ", "\t", "\n", "\u00a0", "\u2003"),
        ]
    )
).map("".join)


@given(ANSWER_LIKE)
def test_read_never_raises_on_answer_like_text(text: str) -> None:
    check_read(text)
