"""What every grammar produces: a typed command, or a ``Usage`` saying what to type instead.

Each kind defines its own commands (frozen dataclasses deriving from ``Command``) in its own
package; only what all of them share lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Usage:
    """Input the grammar rejected: ``error`` says why, ``example`` shows a correct form."""

    error: str
    example: str
    topic: str = ""


class Command:
    """Base of every parsed command.

    ``mid_answer`` commands may be typed without a slash while the bot waits for an answer
    (a status check, an edit): any other line then is the answer. ``reads_only`` commands
    change no ritual's data (only what every request records: its sender on first sight,
    its delivery id), so an edge may answer them inside the platform's acknowledgement
    instead of storing them first.
    """

    mid_answer: ClassVar[bool] = False
    reads_only: ClassVar[bool] = False


@dataclass(frozen=True)
class Help(Command):
    """``help`` or a bare ritual word: show what can be typed."""

    topic: str = ""


ParseResult = Command | Usage

__all__ = ["WEEKDAYS", "Command", "Help", "ParseResult", "Usage"]
