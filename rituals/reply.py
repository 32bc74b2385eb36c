"""Replies to a person's command or message, and where they go."""

from __future__ import annotations

from dataclasses import dataclass

from rituals.commands import Usage
from rituals.messages import Message


@dataclass(frozen=True)
class Reply:
    """``public`` replies go to the channel; the rest only to the person who asked.

    A reply that must not be kept (``keep`` False: the acknowledgement of an anonymous retro
    item) leaves no delivery record once it is sent, so nothing stored links its addressee
    to what they did.
    """

    message: Message
    public: bool = False
    keep: bool = True


def say(text: str, *, public: bool = False, context: str = "") -> Reply:
    return Reply(Message(text=text, context=context), public=public)


def usage(result: Usage) -> Reply:
    return Reply(Message(text=f"Sorry — {result.error}", context=f"Try: {result.example}"))
