"""Who is speaking and where: the neutral identity every edge hands to the rituals."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A person on a platform. ``tz`` is ``None`` when the platform did not say.

    ``admin`` is what the platform says about the person's role in the workspace (a Slack
    workspace admin or owner; the operator at the console), or that the operator named them
    (`Admins`): Teams does not tell a bot who administers a tenant.
    """

    platform: str
    workspace: str
    user: str
    name: str = ""
    tz: str | None = None
    admin: bool = False


@dataclass(frozen=True)
class Place:
    """The channel a command was typed in.

    ``reply_to`` is the platform's own return address for private replies to that command
    (Slack's response_url), which reaches the person even where the bot is not a member.
    """

    channel: str
    name: str = ""
    reply_to: str | None = None
    # What the person typed there is seen by the channel (a Teams @mention), unlike a
    # slash command, which only the bot sees.
    visible: bool = False


@dataclass(frozen=True)
class Admins:
    """The people the operator names as admins (``RITUALBOT_ADMINS``), by their platform
    user ids, compared without regard to case (Entra object ids are GUIDs written either
    way): how a Teams user becomes an admin at all, and a Slack user without the role one."""

    ids: frozenset[str] = frozenset()

    @classmethod
    def of(cls, ids: Iterable[str]) -> Admins:
        return cls(frozenset(i.strip().casefold() for i in ids if i.strip()))

    def named(self, *ids: str | None) -> bool:
        """Whether any of a person's ids (a platform may give several) is on the list."""
        return any(i and i.strip().casefold() in self.ids for i in ids)
