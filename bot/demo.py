"""`ritualbot demo`: four days of a stand-up, two retros, a sprint's backlog, hypothesis
check-ins, a model alert and the week's digest, scripted, on a simulated clock.

It drives the same engine, outbox and console renderer as a real run, calling the scheduled
steps at the instants the scheduler would, so what it prints is what a team would see.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

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
from storage.models import Ritual

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
        self.port = ConsolePort(out, me="")
        self.delivery = Delivery(db, {PLATFORM: self.port}, self.clock)  # type: ignore[arg-type]
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

    async def hypotheses(self) -> None:
        """A hypothesis checked in twice in private, closed with its lesson, and the weekly
        digest of the one still open."""
        kind = self.bot.kinds["hypothesis"]
        self.clock.set(datetime(2026, 12, 14, 7, 0, tzinfo=UTC))
        self.say(f"\n=== {self.clock.now():%A %d %B %Y}: hypotheses ===")
        await self.type(
            "maya",
            "hypothesis add We believe relabelling the noisy slice will result in better "
            "ranker recall; we'll know when recall >= 0.85 by 2027-01-15 checkin daily "
            "baseline 0.78",
        )
        await self.type(
            "omar",
            "hypothesis add We believe a 10% canary will result in fewer rollbacks; "
            "we'll know when rollback_rate <= 0.02 by 2026-12-18 checkin weekly fri",
        )
        await self.type("maya", "hypothesis digest fri 16:00")
        for offset, answer in enumerate(
            ("on track 0.81 relabelled 40% of the slice", "on track 0.86 the whole slice is done")
        ):
            self.clock.set(datetime(2026, 12, 14 + offset, 8, 0, tzinfo=UTC))
            self.say(f"-- {self.clock.now():%A %H:%M} UTC: 09:00 in Europe/Berlin")
            for sweep in kind.sweeps():
                await sweep.run()
            await self.delivery.drain()
            await self.answer("maya", answer)
        await self.type(
            "maya", "hypothesis close 1 validated clean labels beat a bigger model; do the tail"
        )
        self.clock.set(datetime(2026, 12, 18, 15, 0, tzinfo=UTC))
        self.say(f"-- {self.clock.now():%A %H:%M} UTC: 16:00 in Europe/Berlin, the digest")
        for slot in await kind.slots(await _ritual_of(self.runtime, "hypothesis")):
            await slot.run(*slot.args)
        await self.delivery.drain()

    async def alerts(self) -> None:
        """A model alert fires, Omar acknowledges it, it resolves, the next stand-up summary
        names it, and its post-mortem opens as a retro."""
        import json

        from handlers.hooks.alerts import read

        self.clock.set(local_instant(date(2026, 12, 21), cfg.parse_hhmm("08:00"), "UTC"))
        self.say(f"\n=== {self.clock.now():%A %d %B %Y}: a model alert ===")
        await self.type("maya", "retro close")
        self.say(f"@maya types in #{TEAM.name}: alerts connect")
        connected = await self.bot.command(PEOPLE["maya"], TEAM, "alerts connect")
        await self.delivery.drain()
        assert connected is not None
        token = connected.message.text.split("/hooks/alerts/")[1].split()[0]
        await self.type("maya", "alerts oncall @omar")
        alert = {
            "model": "ranker",
            "metric": "recall",
            "value": 0.61,
            "threshold": 0.7,
            "severity": "critical",
            "message": "recall fell after the canary",
        }

        async def post(body: dict[str, object]) -> None:
            self.say(f"-- {self.clock.now():%H:%M} UTC: monitoring posts {json.dumps(body)}")
            await self.bot.hook("alerts", token, read(json.dumps(body).encode()))
            await self.delivery.drain()

        await post(alert)
        self.clock.set(self.clock.now() + timedelta(minutes=4))
        self.say("@omar presses Acknowledge")
        await self.bot.action(PEOPLE["omar"], TEAM, "alerts.ack", "1")
        await self.delivery.drain()
        self.clock.set(self.clock.now() + timedelta(minutes=38))
        await post({**alert, "value": 0.78, "status": "resolved"})
        self.clock.set(local_instant(date(2026, 12, 21), cfg.DEFAULT_AT, "Europe/Berlin"))
        await self.type("maya", "standup now")
        for who, answers in (
            ("maya", ["Rolled back the ranker canary", "Post-mortem", "none"]),
            ("omar", ["Found the recall drop", "Fix the feature join", "none"]),
            ("sam", ["Eval on the clean set", "Relabel", "none"]),
        ):
            for text in answers:
                await self.answer(who, text)
        self.say("@maya presses Open a post-mortem")
        await self.bot.action(PEOPLE["maya"], TEAM, "alerts.postmortem", "1")
        await self.delivery.drain()

    async def backlog(self) -> None:
        """The sprint backlog: the retro's action item filed by its button, items typed,
        a private list, items done and dropped, and the sprint closed with its review."""
        self.say(f"\n=== {self.clock.now():%A %d %B %Y}: the sprint backlog ===")
        await self.type("maya", "backlog add data p1 Deduplicate the click logs @sam")
        await self.type("maya", "backlog add eval p0 Rerun the ranker baseline on the clean set")
        await self.type("omar", "backlog add monitor Recall alert for ranker v3 @omar")
        self.say("@maya presses [A1 to backlog] under the retro summary")
        await self.bot.action(PEOPLE["maya"], TEAM, "retro.task", "1")
        await self.delivery.drain()
        await self.type("maya", "backlog sprint start Sprint 13 until 2026-12-18 Ship ranker v4")
        for number in (1, 2, 3, 4):
            await self.type("maya", f"backlog sprint {number} Sprint 13")
        await self.type("sam", "backlog doing 1")
        await self.type("maya", "backlog list")
        await self.type("sam", "backlog done 1")
        await self.type("maya", "backlog done 2")
        await self.type("maya", "backlog drop 3")
        await self.type("maya", "backlog sprint close")
        self.say("@maya presses [Open items to the next sprint] on the review")
        action_id, value = self.port.shown["open items to the next sprint"]
        await self.bot.action(PEOPLE["maya"], TEAM, action_id, value)
        await self.delivery.drain()

    async def ask(self) -> None:
        """The channel's history, asked: with no model configured, the matching passages
        answer, each citing its ritual and day."""
        self.say("\n=== Asking the history ===")
        await self.type("omar", "ask what blocked the retrain?")

    async def digest(self) -> None:
        """The week for a reader outside the team: each ritual's part of it, in one post."""
        self.clock.set(datetime(2026, 12, 21, 15, 0, tzinfo=UTC))
        self.say(f"\n=== {self.clock.now():%A %H:%M} UTC: the week's digest, for outside ===")
        await self.type("maya", "digest now")


async def _ritual_of(runtime: Runtime, word: str) -> int:
    async with runtime.db.session() as session:
        found = await session.execute(select(Ritual.id).where(Ritual.kind == word))
        return found.scalar_one()


async def main() -> int:
    configure_logging("WARNING", "console")
    out = sys.stdout
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}")
        db.one_lane.add(PLATFORM)
        await db.upgrade()
        script = Script(db, out)
        script.say(
            "ritualbot demo: a four-day stand-up, two retros, the sprint backlog, hypothesis "
            "check-ins and a model alert for #ml-team on a simulated clock.\n"
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
        await script.backlog()
        await script.hypotheses()
        await script.alerts()
        await script.ask()
        await script.digest()
        await db.dispose()
    return 0
