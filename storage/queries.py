"""Statements whose SQL differs by backend, written once."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


def insert_ignoring_conflicts(
    session: AsyncSession, model: type[DeclarativeBase], conflict: list[str]
) -> Any:
    """An INSERT that skips rows clashing on ``conflict``: the database's claim primitive."""
    dialect = session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).on_conflict_do_nothing(index_elements=conflict)
