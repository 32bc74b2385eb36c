"""One grammar for every platform, assembled from the verbs each ritual kind registers.

``parse`` is total: it never raises, whatever the text, so every edge can hand it untrusted
input and only ever has to render one of two shapes.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from rituals.commands.model import Command, Help, Usage
from rituals.commands.tokens import Handler, Reject, drop, quote

MAX_LENGTH = 4000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class Verb:
    """One sub-command: how its arguments parse, and a correct example for usage replies.

    A kind whose word takes free text (``ask QUESTION``) registers it under the verb ``""``:
    words that are none of its verbs are handed to that one whole.
    """

    parse: Handler
    example: str


Verbs = Mapping[str, Verb]


class Grammar:
    """The command words of the registered kinds (``standup``, ``retro``…) and their verbs."""

    def __init__(self) -> None:
        self._words: dict[str, Verbs] = {}

    def add(self, word: str, verbs: Verbs) -> None:
        if word in self._words or word == "help":
            raise ValueError(f"the command word {word!r} is taken")
        self._words[word] = verbs

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self._words)

    def looks_like_command(self, text: str) -> bool:
        """True when text starts with a command word, or a near miss of one."""
        words = text.strip().split(maxsplit=1)
        if not words:
            return False
        word = words[0].lstrip("/").lower()
        known = [*self._words, "help"]
        return word in known or bool(difflib.get_close_matches(word, known, n=1, cutoff=0.8))

    def parse(self, text: str) -> Command | Usage:
        """Parse one chat command; never raises."""
        if len(text) > MAX_LENGTH:
            return Usage(f"too long: {len(text)} characters, the limit is {MAX_LENGTH}", "help")
        if _CONTROL.search(text):
            return Usage("control characters are not allowed in commands", "help")
        body = text.strip().removeprefix("/")
        words = body.split()
        if not words:
            return Help()
        word = words[0].lower()
        if word == "help":
            topic = " ".join(words[1:]).lower()
            if topic and topic not in self._words:
                topics = ", ".join(self._words)
                return Usage(f"no help on {quote(topic)}; topics are {topics}", "help")
            return Help(topic)
        if word not in self._words:
            known = ("help", *self._words)
            guess = _closest(word[:NEAR_AT_MOST], known)
            hint = (
                f"; did you mean {guess[0]!r}?"
                if guess
                else f"; known words are {', '.join(known)}"
            )
            return Usage(f"unknown command {quote(words[0])}{hint}", "help")
        if len(words) == 1 or (len(words) == 2 and words[1].lower() == "help"):
            return Help(word)
        table, sub = self._words[word], words[1].lower()
        if sub not in table and "" in table:
            verb = table[""]
            try:
                return verb.parse(words[1:], drop(body, 1))
            except Reject as rejected:
                return Usage(str(rejected), verb.example, word)
        if sub not in table:
            guess = difflib.get_close_matches(sub, table, n=1)
            if guess:
                error = f"unknown {word} command {quote(words[1])}; did you mean {guess[0]!r}?"
                return Usage(error, table[guess[0]].example, word)
            error = f"unknown {word} command {quote(words[1])}; use {', '.join(table)}"
            return Usage(error, next(iter(table.values())).example, word)
        verb = table[sub]
        try:
            return verb.parse(words[2:], drop(body, 2))
        except Reject as rejected:
            return Usage(str(rejected), verb.example, word)


# Words longer than this are near no command word; cut, they keep the cache small.
NEAR_AT_MOST = 40


@functools.lru_cache(maxsize=4096)
def _closest(word: str, known: tuple[str, ...]) -> list[str]:
    """The known word nearest ``word``, if any is near: every line typed to the bot in
    private is parsed, and its first word is mostly one seen before."""
    return difflib.get_close_matches(word, known, n=1)
