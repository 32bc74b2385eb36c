"""`ritualbot demo`: four days of a stand-up and two retros, scripted, on a simulated clock.

It drives the same engine, outbox and console renderer as a real run, calling the scheduled
steps at the instants the scheduler would, so what it prints is what a team would see.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.kinds import registry
from bot.logging import configure_logging
from handlers.console.port import PLATFORM, WORKSPACE, ConsolePort
from rituals.clock import FakeClock
from rituals.delivery import Delivery
from rituals.identity import Actor, Place
from rituals.router import Rituals
from rituals.runtime import Runtime
from rituals.schedule import local_instant
from rituals.standup import settings as cfg
from storage.db import Database

TEAM = Place("ml-team", "ml-team")
PEOPLE = {
    "maya": Actor(PLATFORM, WORKSPACE, "maya", "Maya", "Europe/Berlin"),
    "omar": Actor(PLATFORM, WORKSPACE, "omar", "Omar", "America/New_York"),
    "sam": Actor(PLATFORM, WORKSPACE, "sam", "Sam", "Europe/London"),
}
MONDAY = date(2026, 11, 23)
ANSWERS: dict[int, dict[str, list[str]]] = {
    0: {
        "maya": [
            "Shipped the feature-store backfill",
            "Retrain the ranker on it",
            "Waiting for GPU quota from @omar",
        ],
        "sam": ["Labelled 2k eval images", "Audit label noise", "Labels vendor is late"],
        "omar": ["Drift dashboard for ranker v3", "Alert rules for recall", "none"],
    },
    1: {
        "maya": ["Prepared training config", "Start the retrain once GPUs land", "same"],
        "sam": ["Label audit: 4% noise", "Relabel the noisy slice", "resolved"],
        "omar": ["Quota request filed", "Canary rollout", "none"],
    },
    2: {
        "maya": ["Small CPU experiments", "Retrain, still", "still blocked"],
        "omar": ["Canary at 10%", "Watch latency", "none"],
    },
    3: {
        "maya": ["Nothing new on the retrain", "Eval harness", "same"],
        "sam": ["Relabelled slice", "Eval on the clean set", "none"],
    },
}


class Script:
    def __init__(self, db: Database, out: object) -> None:
        self.clock = FakeClock(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
        self.runtime = Runtime(db=db, clock=self.clock)
        self.bot = Rituals(self.runtime, registry())
        self.delivery = Delivery(db, {PLATFORM: ConsolePort(out, me="")}, self.clock)  # type: ignore[arg-type]
        self.out = out

    def say(self, line: str) -> None:
        self.out.write(line + "\n")  # type: ignore[attr-defined]

    async def type(self, who: str, text: str) -> None:
        self.say(f"@{who} types in #{TEAM.name}: {text}")
        await self.bot.command(PEOPLE[who], TEAM, text)
        await self.delivery.drain()

    async def answer(self, who: str, text: str) -> None:
        self.say(f"@{who} answers: {text}")
        await self.bot.direct_message(PEOPLE[who], text)
        await self.delivery.drain()

    async def day(self, offset: int, ritual_id: int) -> None:
        day = MONDAY + timedelta(days=offset)
        self.say(f"\n=== {day:%A %d %B %Y} ===")
        zones = sorted(
            {p.tz or "UTC" for p in PEOPLE.values()},
            key=lambda tz: local_instant(day, cfg.DEFAULT_AT, tz),
        )
        for tz in zones:
            self.clock.set(local_instant(day, cfg.DEFAULT_AT, tz))
            self.say(f"-- {self.clock.now():%H:%M} UTC: 09:30 in {tz}")
            await self.bot.kinds["standup"].prompt_due(ritual_id, tz)
            await self.delivery.drain()
            for who, actor in PEOPLE.items():
                if actor.tz == tz:
                    for text in ANSWERS[offset].get(who, []):
                        await self.answer(who, text)
        summary_at = local_instant(day, cfg.parse_hhmm("12:00"), "America/New_York")
        for when in (summary_at - timedelta(minutes=30), summary_at):
            self.clock.set(when)
            self.say(f"-- {when:%H:%M} UTC")
            await self.bot.kinds["standup"].sweep()
            await self.delivery.drain()
        await self.delivery.drain()

    async def retros(self) -> None:
        """A sprint retro on Friday: items (one anonymous), votes, the summary, and its
        action item heading the next sprint's retro two weeks later."""
        self.clock.set(local_instant(MONDAY + timedelta(days=4), cfg.parse_hhmm("15:00"), "UTC"))
        self.say(f"\n=== {self.clock.now():%A %d %B %Y}: the sprint retro ===")
        await self.type("maya", "retro start Sprint 12")
        await self.type("sam", "retro add well The label audit caught 4% noise early")
        await self.type("omar", "retro add improve Waiting three days for GPU quota anon")
        await self.type(
            "maya", "retro add action Ask infra for a standing GPU quota @omar by 2026-12-04"
        )
        for who, item in (("sam", 2), ("omar", 2), ("maya", 3), ("sam", 1)):
            await self.type(who, f"retro vote {item}")
        await self.type("maya", "retro close")
        self.clock.set(self.clock.now() + timedelta(days=14))
        self.say(f"\n=== {self.clock.now():%A %d %B %Y}: the next retro ===")
        await self.type("maya", "retro start Sprint 13")

    async def ask(self) -> None:
        """The channel's history, asked: with no model configured, the matching passages
        answer, each citing its ritual and day."""
        self.say("\n=== Asking the history ===")
        await self.type("omar", "ask what blocked the retrain?")


async def main() -> int:
    configure_logging("WARNING", "console")
    out = sys.stdout
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}")
        db.one_lane.add(PLATFORM)
        await db.upgrade()
        script = Script(db, out)
        script.say(
            "ritualbot demo: a four-day stand-up and two retros for #ml-team on a simulated "
            "clock.\n"
        )
        await script.type(
            "maya", "standup setup at 09:30 days mon-fri tz Europe/Berlin summary 12:00"
        )
        await script.type("omar", "standup join")
        await script.type("sam", "standup join")
        for offset in range(4):
            if offset == 2:
                await script.type("sam", f"standup away until {MONDAY + timedelta(days=2)}")
            await script.day(offset, ritual_id=1)
        await script.type("maya", "standup report 7")
        await script.retros()
        await script.ask()
        script.say("\nHypothesis check-ins, the backlog and alerts are not built yet.")
        await db.dispose()
    return 0
