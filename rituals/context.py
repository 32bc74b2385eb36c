"""The resolved who-and-where of one inbound command, shared by every ritual's handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rituals.identity import Actor, Place
from storage.models import Channel, Member, Ritual, Workspace


@dataclass
class CommandContext:
    session: AsyncSession
    actor: Actor
    place: Place | None
    workspace: Workspace
    member: Member
    channel: Channel | None
    now: datetime
    changed_rituals: set[int] = field(default_factory=set)
    # Work to run once this unit of work has committed (a summary an answer completed).
    after: list[Callable[[], Awaitable[object]]] = field(default_factory=list)

    def ritual_changed(self, ritual: Ritual) -> None:
        """A ritual's settings moved: its version too, so every process's scheduler rebuilds
        its jobs, this one's right after the commit."""
        ritual.version += 1
        ritual.updated_at = self.now
        self.changed_rituals.add(ritual.id)
