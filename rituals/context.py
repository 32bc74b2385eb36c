"""The resolved who-and-where of one inbound command, shared by every ritual's handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rituals.identity import Actor, Place
from rituals.signing import signing_key
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
    # Work to run once this unit of work has committed (a summary an answer completed), by
    # a key when the same work set going twice in one batch need only run once.
    after: dict[Hashable, Callable[[], Awaitable[object]]] = field(default_factory=dict)
    # RITUALBOT_SECRET_KEY when set (`Runtime.secret_key`); empty, the stored key signs.
    secret_key: str = ""
    # `outbound.stored()` when the context was made: delivery is woken only if it moved.
    stored_before: int = 0

    def then(self, step: Callable[[], Awaitable[object]], key: Hashable | None = None) -> None:
        """Run ``step`` once this unit of work has committed (see ``after``)."""
        self.after[object() if key is None else key] = step

    async def signing_key(self) -> str:
        """The key what a command hands out is signed with (a button's value), the same
        one every other part of the bot signs with."""
        return await signing_key(self.session, self.secret_key)

    def ritual_changed(self, ritual: Ritual) -> None:
        """A ritual's settings moved: its version too, so every process's scheduler rebuilds
        its jobs, this one's right after the commit."""
        ritual.version += 1
        ritual.updated_at = self.now
        self.changed_rituals.add(ritual.id)
