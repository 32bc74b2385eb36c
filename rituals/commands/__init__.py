"""The command grammar: one parser for every ritual command on every platform."""

from difflib import get_close_matches

from rituals.commands.model import *  # noqa: F403
from rituals.commands.parser import parse  # noqa: F401

RITUAL_WORDS = frozenset({"standup", "retro", "hypothesis", "backlog", "alerts", "help"})


def looks_like_command(text: str) -> bool:
    """True when text typed to the bot starts with a command word, or a near miss of one."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return False
    word = words[0].lstrip("/").lower()
    return word in RITUAL_WORDS or bool(get_close_matches(word, RITUAL_WORDS, n=1, cutoff=0.8))
