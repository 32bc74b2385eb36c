"""Retro formats: the categories a board has, and which of them holds the action items.

Every format ends in something the team will do, so formats without an action category of
their own (start/stop/continue, the four Ls) get the default's ``action``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RetroFormat(StrEnum):
    default = "default"
    ssc = "ssc"
    four_ls = "4ls"
    postmortem = "postmortem"


@dataclass(frozen=True)
class Category:
    word: str
    label: str
    actions: bool = False


ACTION = Category("action", "Action items", actions=True)

CATEGORIES: dict[RetroFormat, tuple[Category, ...]] = {
    RetroFormat.default: (
        Category("well", "Went well"),
        Category("improve", "To improve"),
        Category("idea", "Ideas"),
        ACTION,
    ),
    RetroFormat.ssc: (
        Category("start", "Start"),
        Category("stop", "Stop"),
        Category("continue", "Continue"),
        ACTION,
    ),
    RetroFormat.four_ls: (
        Category("liked", "Liked"),
        Category("learned", "Learned"),
        Category("lacked", "Lacked"),
        Category("longed", "Longed for"),
        ACTION,
    ),
    RetroFormat.postmortem: (
        Category("happened", "What happened"),
        Category("impact", "Impact"),
        Category("cause", "Root cause"),
        Category("change", "What we change", actions=True),
    ),
}


def categories(format_name: str) -> tuple[Category, ...]:
    """The categories of a stored format name; an unknown one (an old row) reads as default."""
    try:
        return CATEGORIES[RetroFormat(format_name)]
    except ValueError:
        return CATEGORIES[RetroFormat.default]


def category(format_name: str, word: str) -> Category | None:
    return next((c for c in categories(format_name) if c.word == word), None)


def label(format_name: str, word: str) -> str:
    """How a category is headed on a board; an item filed under another format keeps its word."""
    found = category(format_name, word)
    return found.label if found is not None else word.capitalize()


def words(format_name: str) -> str:
    """``well, improve, idea or action``: the valid words, as a reply lists them."""
    names = [c.word for c in categories(format_name)]
    return ", ".join(names[:-1]) + " or " + names[-1]
