"""Small builders for retro tests: people, places, what the channel shows, and the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from rituals.identity import Actor, Place
from rituals.retro.models import Retro, RetroItem
from storage.db import Database
from storage.models import Base
from tests.helpers import CHANNEL, Posted, Team, person

MONDAY = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
ANA = person("UANA", name="Ana")
BEN = person("UBEN", name="Ben Ode")
CAL = person("UCAL", name="Cal")
OTHER_CHANNEL = Place("C2", "data-team")


async def say_in(team: Team, place: Place, actor: Actor, line: str) -> str:
    """A command typed in another channel than the team's usual one."""
    reply = await team.bot.command(actor, place, line)
    return reply.message.plain_text() if reply else ""


async def press(
    team: Team, actor: Actor, action_id: str, value: str, place: Place | None = CHANNEL
) -> str:
    reply = await team.bot.action(actor, place, action_id, value)
    return reply.message.plain_text() if reply else ""


def boards(sent: list[Posted]) -> list[Posted]:
    """Board messages, as first posted or updated in place."""
    return [p for p in sent if p.message.text.startswith("Retro: ")]


def thread_items(sent: list[Posted]) -> list[Posted]:
    return [p for p in sent if p.op == "post" and p.thread is not None]


async def latest_board(team: Team) -> str:
    """The board as the channel shows it now."""
    await team.deliver()
    shown = boards(team.port.log)
    assert shown, "no board was posted"
    return shown[-1].text


async def item_ids(db: Database) -> list[int]:
    async with db.session() as session:
        return list((await session.execute(select(RetroItem.id).order_by(RetroItem.id))).scalars())


async def retros(db: Database) -> list[Retro]:
    async with db.session() as session:
        return list((await session.execute(select(Retro).order_by(Retro.id))).scalars())


async def snapshot(db: Database, *, skip: tuple[str, ...] = ("outbox",)) -> dict[str, list[Any]]:
    """Every row of every table, to show a refused command changed nothing."""
    found: dict[str, list[Any]] = {}
    async with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            rows = await conn.execute(text(f'SELECT * FROM "{table.name}"'))
            found[table.name] = sorted(map(repr, rows.all()))
    return found


async def known(team: Team, *actors: Actor) -> None:
    """People the bot has met (a `help`), so a later refusal's snapshot has their rows."""
    for actor in actors:
        await team.type(actor, "help")
