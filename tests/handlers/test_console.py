"""The console platform: a person types commands and answers in one terminal."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime

from bot.kinds import registry
from handlers.console.port import ConsolePort
from handlers.console.render import render
from handlers.console.session import ConsoleSession
from rituals.clock import FakeClock
from rituals.delivery import Delivery
from rituals.messages import Message, Section
from rituals.router import Rituals
from rituals.runtime import Runtime
from storage.db import Database


class Terminal:
    def __init__(self, db: Database, read_line: Callable[[], str] | None = None) -> None:
        self.screen = io.StringIO()
        clock = FakeClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
        rituals = Rituals(Runtime(db=db, clock=clock), registry())
        db.one_lane.add(ConsolePort.platform)  # as the composition root does for one-lane ports
        port = ConsolePort(self.screen, me="dana")
        self.session = ConsoleSession(
            rituals,
            user="dana",
            channel="ml",
            tz="Europe/Berlin",
            out=self.screen,
            read_line=read_line,
            shown=port.shown,
        )
        self.delivery = Delivery(db, {"console": port}, clock)

    async def type(self, *lines: str) -> str:
        start = self.screen.tell()
        for line in lines:
            await self.session.handle(line)
            await self.delivery.drain()
        self.screen.seek(start)
        return self.screen.read()


async def test_a_whole_standup_in_the_terminal(sqlite_db: Database) -> None:
    terminal = Terminal(sqlite_db)
    shown = await terminal.type("standup setup at 09:30 tz Europe/Berlin")
    assert "[#ml] ritualbot: The stand-up for #ml is set up." in shown

    shown = await terminal.type("/standup now")
    assert "[#ml] ritualbot: Stand-up started: asked 1 person" in shown
    assert "[DM] ritualbot: Hi dana! Stand-up for #ml — question 1 of 3:" in shown

    shown = await terminal.type("fixed the data loader", "tune the ranker", "waiting on GPUs")
    assert "[#ml] ritualbot: Stand-up #ml — Mon 23 Nov: 1/1 answered, 1 open blocker" in shown
    assert "• #1 dana: waiting on GPUs (new today)" in shown
    assert "thread" in shown and "fixed the data loader" in shown


async def test_private_replies_are_marked_and_blank_lines_ignored(sqlite_db: Database) -> None:
    terminal = Terminal(sqlite_db)
    assert await terminal.type("", "   ") == ""
    shown = await terminal.type("standup blockers")
    assert shown.startswith("[#ml, only you] ritualbot: There is no stand-up in this channel yet.")


async def test_a_csv_export_is_printed_in_full(sqlite_db: Database) -> None:
    terminal = Terminal(sqlite_db)
    await terminal.type("standup setup", "standup now", "a", "b", "none")
    shown = await terminal.type("standup export")
    assert "--- standup-ml.csv ---" in shown
    assert "2026-11-23,ml,dana,dana,1," in shown


async def test_the_session_reads_until_quit(sqlite_db: Database) -> None:
    lines = iter(["standup setup\n", "quit\n", "standup now\n"])
    terminal = Terminal(sqlite_db, read_line=lambda: next(lines, ""))
    await terminal.session.run()
    await terminal.delivery.drain()
    output = terminal.screen.getvalue()
    assert "ritualbot console — you are @dana in #ml" in output
    assert "is set up" in output and "Stand-up started" not in output


async def test_replies_come_in_the_order_things_were_typed(sqlite_db: Database) -> None:
    terminal = Terminal(sqlite_db)
    start = terminal.screen.tell()
    for line in ("standup status", "standup blockers", "standup setup at 09:30"):
        await terminal.session.handle(line)
    await terminal.delivery.drain()
    terminal.screen.seek(start)
    speakers = [line.split(" ritualbot:")[0] for line in terminal.screen if "ritualbot:" in line]
    assert speakers == ["[#ml, only you]", "[#ml, only you]", "[#ml]"]


async def test_typing_a_buttons_label_presses_it(sqlite_db: Database) -> None:
    terminal = Terminal(sqlite_db)
    await terminal.type("standup setup at 09:30 tz Europe/Berlin", "/standup now")
    shown = await terminal.type("fixed the loader", "tune", "waiting on GPUs")
    assert "[Resolve #1]" in shown

    shown = await terminal.type("[Resolve #1]")

    assert "Blocker #1 resolved by dana the same day: waiting on GPUs" in shown
    assert "No open blockers" in await terminal.type("standup blockers")


async def test_a_question_left_waiting_is_asked_again_when_the_console_starts(
    sqlite_db: Database,
) -> None:
    first = Terminal(sqlite_db)
    await first.type("standup setup at 09:30 tz Europe/Berlin", "/standup now", "fixed it")
    lines = iter(["quit\n"])
    again = Terminal(sqlite_db, read_line=lambda: next(lines, ""))
    await again.session.run()
    await again.delivery.drain()
    assert "Stand-up for #ml — question 2 of 3" in again.screen.getvalue()


async def test_asterisks_people_type_are_printed_and_only_bold_markup_is_dropped(
    sqlite_db: Database,
) -> None:
    terminal = Terminal(sqlite_db)
    shown = await terminal.type("backlog add Fix 2*3 overflow")
    assert "Fix 2*3 overflow" in shown
    await terminal.type(
        "hypothesis add We believe caching will result in speed; we'll know when p99 < 200 "
        "checkin 0 9 * * 1-5"
    )
    shown = await terminal.type("hypothesis show 1")
    assert "`0 9 * * 1-5`" in shown
    assert "*" not in shown.replace("`0 9 * * 1-5`", "")


def test_the_bold_of_headings_is_dropped_and_stray_asterisks_kept() -> None:
    message = Message(
        text="*Latest* (Mon): 1/1 answered",
        sections=[Section(text="*Blockers*\nNone open."), Section(text="a * b, 2*3, *note")],
    )
    assert render("#ml", message).splitlines() == [
        "[#ml] ritualbot: Latest (Mon): 1/1 answered",
        "    Blockers",
        "    None open.",
        "    a * b, 2*3, *note",
    ]
