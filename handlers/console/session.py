"""The console's input side: each typed line becomes a command or an answer."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Mapping
from typing import TextIO

import structlog

from handlers.console.port import PLATFORM, WORKSPACE
from rituals.identity import Actor, Place
from rituals.router import Rituals

log = structlog.get_logger(__name__)

BANNER = """ritualbot console — you are @{user} in #{channel} ({tz}); web server at {url}.
Type commands as you would in Slack (`standup setup at 09:30`, `standup now`, `help`);
any other line is your answer to the question the bot asked you, and a button's label
([Resolve #1]) presses it. `skip` or `cancel` pass today's questions. `quit` or Ctrl-D leaves."""


def _read_terminal_line() -> str:
    """One line with line editing where the terminal has it; an empty string at the end."""
    if not sys.stdin.isatty():
        return sys.stdin.readline()
    import readline  # noqa: F401  (imported for its side effect: arrow keys and history)

    try:
        return input("› ") + "\n"
    except EOFError:
        return ""


class ConsoleSession:
    def __init__(
        self,
        rituals: Rituals,
        *,
        user: str,
        channel: str,
        tz: str,
        out: TextIO,
        url: str = "",
        read_line: Callable[[], str] | None = None,
        shown: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        """``shown`` are the buttons the console printed last, by label (see ConsolePort)."""
        self.rituals = rituals
        # Whoever runs the console runs the bot: they administer its one workspace.
        self.actor = Actor(PLATFORM, WORKSPACE, user, user, tz, admin=True)
        self.place = Place(channel, channel)
        self.out = out
        self.url = url
        self._read_line = read_line or _read_terminal_line
        self.shown = shown if shown is not None else {}

    async def handle(self, line: str) -> None:
        """A typed line: a button's label presses it ([Resolve #1] or Resolve #1); else a
        command or an answer."""
        text = line.strip()
        if not text:
            return
        pressed = self.shown.get(text.strip("[]").strip().lower())
        if pressed is not None:
            action_id, value = pressed
            await self.rituals.action(self.actor, self.place, action_id, value)
            return
        await self.rituals.line(self.actor, self.place, text)

    def _lines(self) -> asyncio.Queue[str]:
        """Lines read on a daemon thread, so a blocked read never holds up shutdown."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str] = asyncio.Queue()

        def pump() -> None:
            while True:
                try:
                    line = self._read_line()
                except (OSError, ValueError):
                    line = ""
                loop.call_soon_threadsafe(queue.put_nowait, line)
                if not line:
                    return

        threading.Thread(target=pump, name="console-input", daemon=True).start()
        return queue

    async def run(self) -> None:
        """Read lines until EOF or `quit`; each is handled before the next is read."""
        self.out.write(
            BANNER.format(
                user=self.actor.user, channel=self.place.channel, tz=self.actor.tz, url=self.url
            )
            + "\n"
        )
        self.out.flush()
        await self.rituals.remind(self.actor)  # a question left waiting, asked again
        lines = self._lines()
        while True:
            line = await lines.get()
            if not line or line.strip().lower() in {"quit", "exit"}:
                return
            try:
                await self.handle(line)
            except Exception:  # a bad line must not end the session
                log.exception("console input failed")
                self.out.write("Something went wrong handling that line; see the log.\n")
