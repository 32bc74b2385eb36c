"""Who is speaking and where: the neutral identity every edge hands to the rituals."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A person on a platform. ``tz`` is ``None`` when the platform did not say.

    ``admin`` is what the platform says about the person's role in the workspace (a Slack
    workspace admin or owner; the operator at the console); Teams does not tell a bot.
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
