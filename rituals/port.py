"""The chat port: the one protocol every platform edge implements to send.

Rituals never call a platform; they write to the outbox, and the outbox calls a port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rituals.messages import Message


@dataclass(frozen=True)
class Sent:
    """Where a delivered message landed: enough to reply in its thread or update it later."""

    channel: str
    ref: str


class SendError(Exception):
    """A send that did not go through.

    ``permanent`` errors (unknown channel, a user who blocked the bot) are not retried;
    others are, after ``retry_after`` seconds when the platform said so.
    """

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class ChatPort(Protocol):
    platform: str

    async def post(
        self, workspace: str, channel: str, message: Message, *, thread: str | None = None
    ) -> Sent:
        """Post to a channel, or into a thread of it when ``thread`` is a message ref."""
        ...

    async def direct(self, workspace: str, user: str, message: Message) -> Sent:
        """Send a direct message to one person."""
        ...

    async def update(self, workspace: str, sent: Sent, message: Message) -> Sent:
        """Replace a message the bot posted earlier."""
        ...

    async def ephemeral(
        self, workspace: str, channel: str, user: str, message: Message, *, via: str | None = None
    ) -> Sent:
        """Show a message in a channel to one person only; ``via`` is the return address
        the platform gave with the command (see `Place.reply_to`), when there is one."""
        ...
