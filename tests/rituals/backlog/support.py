"""Small builders for backlog tests: people, places, and what the database holds."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from rituals.backlog.models import BacklogChange, BacklogItem
from rituals.identity import Actor, Place
from storage.db import Database
from tests.helpers import Team, person
from tests.rituals.retro.support import known, press, say_in, snapshot

MONDAY = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
ANA = person("UANA", name="Ana")
BEN = person("UBEN", name="Ben Ode")
CAL = person("UCAL", name="Cal")
OTHER_CHANNEL = Place("C2", "data-team")
ELSEWHERE = Actor("test", "W2", "UZED", "Zed", "UTC")

__all__ = ["known", "press", "say_in", "snapshot"]


async def rows(db: Database) -> list[tuple[int, str, int, str, str, int | None]]:
    """(number, type, priority, state, title, owner id) of every item, by channel and number."""
    async with db.session() as session:
        found = await session.execute(
            select(BacklogItem).order_by(BacklogItem.ritual_id, BacklogItem.number)
        )
        return [
            (i.number, i.type, i.priority, i.state, i.title, i.owner_id) for i in found.scalars()
        ]


async def changes(db: Database) -> list[str]:
    async with db.session() as session:
        found = await session.execute(select(BacklogChange.what).order_by(BacklogChange.id))
        return list(found.scalars())


async def file_many(team: Team, actor: Actor, count: int, line: str = "add data p1 Item") -> None:
    for n in range(1, count + 1):
        await team.type(actor, f"backlog {line} {n}")
