"""Statements whose SQL differs by backend, written once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute


def insert_ignoring_conflicts(
    session: AsyncSession, model: type[DeclarativeBase], conflict: list[str]
) -> Any:
    """An INSERT that skips rows clashing on ``conflict``: the database's claim primitive."""
    dialect = session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).on_conflict_do_nothing(index_elements=conflict)


async def claim_unset(
    session: AsyncSession, column: InstrumentedAttribute[Any], row_id: int, value: Any
) -> bool:
    """Set ``column`` on one row only if it is still unset; True for the caller that did.

    Two processes racing to remind, escalate or summarize the same thing both run this; the
    database lets exactly one of them win.
    """
    model = column.class_
    result = await session.execute(
        update(model)
        .where(model.id == row_id, column.is_(None))
        .values({column.key: value})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
