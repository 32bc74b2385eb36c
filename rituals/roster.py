"""The roster port: who is in a channel, as a platform knows it (Slack's channel members).

Where a platform offers one, a stand-up's participants follow the channel: people who join
the channel are asked, people who leave it are not, and `standup leave` opts one out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class Person:
    """A human member of a channel; ``away`` from their status (out of office, sick)."""

    user: str
    name: str
    tz: str | None
    away: bool = False
    away_until: date | None = None


class Roster(Protocol):
    platform: str

    async def members(self, workspace: str, channel: str) -> list[Person] | None:
        """The channel's human members, or None when the platform cannot say right now."""
        ...
