"""The stand-up engine: one object the router, commands and scheduler talk to.

Its parts live beside it: `starting` (occurrences and prompts), `answering` (answers and
edits), `closing` (reminders, summaries, escalation) and `ledger` (blockers).
"""

from __future__ import annotations

from rituals.runtime import Runtime
from rituals.standup.answering import Answering
from rituals.standup.closing import Closer
from rituals.standup.membership import Membership
from rituals.standup.starting import Starter


class StandupEngine:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.starting = Starter(runtime)
        self.closing = Closer(runtime)
        self.answering = Answering(runtime, self.closing)
        self.membership = Membership(runtime)

    async def prompt_due(self, ritual_id: int, tz: str) -> int:
        return await self.starting.prompt_due(ritual_id, tz)

    async def catch_up(self) -> int:
        return await self.starting.catch_up()

    async def timezones(self, ritual_id: int) -> list[str]:
        return await self.starting.timezones(ritual_id)

    async def sweep(self) -> None:
        await self.closing.sweep()
