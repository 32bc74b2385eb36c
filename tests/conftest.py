"""Databases for tests: every engine test runs on SQLite and on a real PostgreSQL.

PostgreSQL tests skip with a reason when no server answers, except under CI=true, where an
unreachable server fails them: CI must never pass by skipping them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from bot.kinds import registry
from storage.db import Database
from storage.models import Base

# Each ritual kind declares its tables in its own package: load them all, so the schema
# checks and the per-test truncation see every table the migrations create.
registry()

PG_ADMIN_DSN = os.environ.get("RITUALBOT_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
PG_DB = f"ritualbot_test_{os.getpid()}"


def _pg_url(database: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{database}"


def _blocking(coro: Coroutine[Any, Any, None]) -> None:
    """Run set-up coroutines on a thread of their own, outside whatever loop is running."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    db = Database(url)
    await db.upgrade()
    await db.dispose()


@pytest.fixture(autouse=True)
def no_platform_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests build their platforms explicitly; credentials of the machine must not leak in
    (slack-bolt, for one, reads SLACK_* variables by itself)."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "MICROSOFT_", "OPENAI_")):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _blocking(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        _blocking(_admin(f'DROP DATABASE IF EXISTS "{PG_DB}"'))
        _blocking(_admin(f'CREATE DATABASE "{PG_DB}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"PostgreSQL not reachable at {PG_ADMIN_DSN} ({exc}); set RITUALBOT_TEST_PG_DSN"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true requires PostgreSQL: {reason}")
        pytest.skip(reason)
    url = _pg_url(PG_DB)
    _blocking(_migrate(url))
    yield url
    _blocking(_admin(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))


def sqlite_copy(template: Path, directory: Path) -> str:
    path = directory / "ritualbot.db"
    shutil.copy(template, path)
    return f"sqlite+aiosqlite:///{path}"


async def _truncate(db: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        database = Database(sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path))
    else:
        database = Database(request.getfixturevalue("postgres_url"))
        await _truncate(database)
    yield database
    await database.dispose()


@pytest.fixture
async def pg_db(postgres_url: str) -> AsyncIterator[Database]:
    """A migrated, empty PostgreSQL database, for what only it allows (several processes
    sharing one database, its planner)."""
    database = Database(postgres_url)
    await _truncate(database)
    yield database
    await database.dispose()


@pytest.fixture
async def sqlite_db(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(sqlite_copy(sqlite_template, tmp_path))
    yield database
    await database.dispose()
