"""Builders for hypothesis tests: people, the canvas sentence, the kind, and the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from rituals.hypothesis import HypothesisKind
from rituals.hypothesis.models import Hypothesis, HypothesisAsk, HypothesisPoint
from storage.db import Database
from storage.models import Base
from tests.helpers import Team, person

MONDAY = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)
ANA = person("UANA", name="Ana")
BEN = person("UBEN", "Europe/Berlin", name="Ben Ode")
CAL = person("UCAL", name="Cal")
SENTENCE = (
    "hypothesis add We believe dedup will result in cleaner labels; "
    "we'll know when precision >= 0.9"
)


def kind_of(team: Team) -> HypothesisKind:
    kind = team.bot.kinds["hypothesis"]
    assert isinstance(kind, HypothesisKind)
    return kind


async def known(team: Team, *actors: Any) -> None:
    for actor in actors:
        await team.type(actor, "help")


async def hypotheses(db: Database) -> list[Hypothesis]:
    async with db.session() as session:
        rows = await session.execute(select(Hypothesis).order_by(Hypothesis.id))
        return list(rows.scalars())


async def points(db: Database) -> list[tuple[float | None, str | None, str]]:
    async with db.session() as session:
        rows = await session.execute(
            select(HypothesisPoint.value, HypothesisPoint.status, HypothesisPoint.note).order_by(
                HypothesisPoint.id
            )
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def asks(db: Database) -> list[HypothesisAsk]:
    async with db.session() as session:
        rows = await session.execute(select(HypothesisAsk).order_by(HypothesisAsk.id))
        return list(rows.scalars())


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
