"""The roster port: who is in a channel, as a platform knows it (Slack's channel members).

Where a platform offers one, a stand-up's participants follow the channel: people who join
the channel are asked, people who leave it are not, and `standup leave` opts one out.
"""

from __future__ import annotations

import time
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


class CachedRoster:
    """A roster asked at most once per ``ttl`` seconds for each channel: stand-ups re-sync
    every minute, platforms count and limit these calls. A failed ask is not kept."""

    def __init__(self, roster: Roster, *, ttl: float = 600.0) -> None:
        self.platform = roster.platform
        self._roster = roster
        self._ttl = ttl
        self._cache: dict[tuple[str, str], tuple[float, list[Person]]] = {}

    async def members(self, workspace: str, channel: str) -> list[Person] | None:
        key = (workspace, channel)
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        people = await self._roster.members(workspace, channel)
        if people is not None:
            self._cache[key] = (time.monotonic(), people)
        return people
