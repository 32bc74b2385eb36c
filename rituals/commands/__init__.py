"""The command grammar: one parser for every ritual command on every platform."""

from rituals.commands.model import *  # noqa: F403
from rituals.commands.parser import parse  # noqa: F401

RITUAL_WORDS = frozenset({"standup", "retro", "hypothesis", "backlog", "alerts", "help"})


def looks_like_command(text: str) -> bool:
    """True when text typed to the bot starts with a command word."""
    words = text.strip().split(maxsplit=1)
    return bool(words) and words[0].lstrip("/").lower() in RITUAL_WORDS
