"""Who is speaking and where: the neutral identity every edge hands to the rituals."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A person on a platform. ``tz`` is ``None`` when the platform did not say."""

    platform: str
    workspace: str
    user: str
    name: str = ""
    tz: str | None = None


@dataclass(frozen=True)
class Place:
    """The channel a command was typed in."""

    channel: str
    name: str = ""
