"""The console's chat port: every message the bot sends is printed to the terminal."""

from __future__ import annotations

import itertools
from typing import TextIO

from handlers.console.render import render
from rituals.messages import Message
from rituals.port import Sent

PLATFORM = "console"
WORKSPACE = "local"


class ConsolePort:
    platform = PLATFORM
    # One terminal shows the channel and the private chat: all of it goes out in one lane.
    one_lane = True

    def __init__(self, out: TextIO, *, me: str) -> None:
        self.out = out
        self.me = me
        self._refs = itertools.count(1)
        # The buttons shown last, by label: typing a label presses it, as a click would.
        self.shown: dict[str, tuple[str, str]] = {}

    def _print(self, where: str, message: Message, channel: str) -> Sent:
        self.out.write(render(where, message) + "\n")
        self.out.flush()
        for button in message.buttons:
            if not button.form:
                self.shown[button.label.lower()] = (button.action_id, button.value)
        return Sent(channel, f"c{next(self._refs)}")

    async def post(
        self, workspace: str, channel: str, message: Message, *, thread: str | None = None
    ) -> Sent:
        where = f"#{channel}" + (" ↳ thread" if thread else "")
        return self._print(where, message, channel)

    async def direct(self, workspace: str, user: str, message: Message) -> Sent:
        where = "DM" if user == self.me else f"DM to @{user}"
        return self._print(where, message, f"dm:{user}")

    async def update(self, workspace: str, sent: Sent, message: Message) -> Sent:
        self._print(f"edited {sent.ref}", message, sent.channel)
        return sent

    async def ephemeral(
        self, workspace: str, channel: str, user: str, message: Message, *, via: str | None = None
    ) -> Sent:
        return self._print(f"#{channel}, only you", message, channel)
