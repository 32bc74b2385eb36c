"""Revision 0004 moves stand-up settings off the ritual row and keeps every stand-up intact.

A database at 0003 with a stand-up, its participants, a run with answers and an open blocker
is upgraded to head and downgraded again, on SQLite and PostgreSQL: nothing is lost on the
way, and the stand-up keeps running from its moved settings.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy import JSON, Date, bindparam, inspect, text
from sqlalchemy.engine import Connection

from storage.db import Database, alembic_config
from storage.types import UTCDateTime
from tests.conftest import PG_ADMIN_DSN, _admin, _pg_url
from tests.helpers import CHANNEL, PLATFORM, WORKSPACE, Team, person

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
QUESTIONS = ["Done?", "Next?", "Anything blocking you?"]
TYPES = {"t": UTCDateTime(), "day": Date(), "questions": JSON()}


async def _to(db: Database, revision: str, *, down: bool = False) -> None:
    def run(connection: Connection) -> None:
        step = command.downgrade if down else command.upgrade
        step(alembic_config(connection), revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(run)


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database with no schema at all, of each kind."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
        yield database
        await database.dispose()
        return
    name = f"ritualbot_migration_{os.getpid()}"
    try:
        await _admin(f'DROP DATABASE IF EXISTS "{name}"')
        await _admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"PostgreSQL not reachable at {PG_ADMIN_DSN} ({exc})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true requires PostgreSQL: {reason}")
        pytest.skip(reason)
    database = Database(_pg_url(name))
    yield database
    await database.dispose()
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _standup_at_0003(db: Database) -> None:
    """What a team had before: a stand-up set up as the 0003 schema stored it."""
    rows = [
        "INSERT INTO workspace (id, platform, external_id, name, created_at) "
        f"VALUES (1, '{PLATFORM}', '{WORKSPACE}', '', :t)",
        f"INSERT INTO channel (id, workspace_id, external_id, name) "
        f"VALUES (1, 1, '{CHANNEL.channel}', '{CHANNEL.name}')",
        "INSERT INTO member (id, workspace_id, external_id, name, tz, status_away) "
        "VALUES (1, 1, 'alice', 'Alice', 'Europe/Berlin', false)",
        "INSERT INTO member (id, workspace_id, external_id, name, tz, status_away) "
        "VALUES (2, 1, 'bob', 'Bob', 'Europe/Berlin', false)",
        "INSERT INTO ritual (id, channel_id, kind, at, days, tz, summary_at, country, questions, "
        "skip_dates, options, paused, lead_member_id, version, created_at, updated_at) VALUES "
        "(1, 1, 'standup', '10:15', '1,3,5', 'Europe/Berlin', '13:00', 'DE', :questions, "
        '\'["2026-12-24"]\', \'{"summary_mode": "full", "left": ["carol"]}\', false, 1, '
        "3, :t, :t)",
        "INSERT INTO participant (ritual_id, member_id) VALUES (1, 1), (1, 2)",
        "INSERT INTO occurrence (id, ritual_id, scheduled_at, local_date, started_at, "
        "summary_due_at, questions, status, manual) VALUES "
        "(1, 1, :t, :day, :t, :t, :questions, 'summarized', false)",
        "INSERT INTO response (id, occurrence_id, member_id, prompted_at, next_question, late) "
        "VALUES (1, 1, 1, :t, 3, false)",
        "INSERT INTO answer (id, response_id, question_index, question, text, answered_at) "
        "VALUES (1, 1, 2, 'Anything blocking you?', 'GPU quota', :t)",
        "INSERT INTO blocker (id, ritual_id, member_id, answer_id, text, opened_on, opened_at) "
        "VALUES (1, 1, 1, 1, 'GPU quota', :day, :t)",
    ]
    params = {
        "t": T0,
        "day": date(2026, 11, 23),
        "questions": QUESTIONS,
    }
    async with db.engine.begin() as conn:
        for statement in rows:
            typed = text(statement).bindparams(
                *(bindparam(k, type_=TYPES[k]) for k in TYPES if f":{k}" in statement)
            )
            await conn.execute(typed, {k: v for k, v in params.items() if f":{k}" in statement})


async def _count(db: Database, table: str) -> int:
    async with db.engine.connect() as conn:
        return (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()


async def _ritual_columns(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        columns = await conn.run_sync(lambda c: inspect(c).get_columns("ritual"))
    return {c["name"] for c in columns}


async def test_an_existing_standup_survives_the_upgrade_and_keeps_running(
    empty_db: Database,
) -> None:
    await _to(empty_db, "0003")
    await _standup_at_0003(empty_db)

    await empty_db.upgrade()

    assert not {"at", "days", "summary_at", "questions"} & await _ritual_columns(empty_db)
    for table in ("participant", "occurrence", "response", "answer", "blocker"):
        assert await _count(empty_db, table) >= 1, f"{table} rows were lost"
    team = Team(empty_db, datetime(2026, 11, 25, 8, 0, tzinfo=UTC))  # a Wednesday
    status = await team.type(person("alice", "Europe/Berlin"), "standup status")
    assert "10:15 Mon, Wed, Fri (Europe/Berlin)" in status
    assert "summary at 13:00" in status and "skips DE public holidays" in status
    assert "answers in the summary;" in status  # the "full" option kept beside the settings
    assert "3. Anything blocking you?" in status and "2026-12-24" in status
    blockers = await team.type(person("alice", "Europe/Berlin"), "standup blockers")
    assert "GPU quota" in blockers


async def test_a_downgrade_puts_the_settings_back_in_their_columns(empty_db: Database) -> None:
    await _to(empty_db, "0003")
    await _standup_at_0003(empty_db)
    await empty_db.upgrade()

    await _to(empty_db, "0003", down=True)

    async with empty_db.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT at, days, summary_at, country, questions, skip_dates, options "
                    "FROM ritual WHERE id = 1"
                )
            )
        ).one()
    at, days, summary_at, country, questions, skip_dates, options = row
    assert (at, days, summary_at, country) == ("10:15", "1,3,5", "13:00", "DE")
    assert _json(questions) == QUESTIONS and _json(skip_dates) == ["2026-12-24"]
    assert _json(options) == {"summary_mode": "full", "left": ["carol"]}
    assert await _count(empty_db, "blocker") == 1
    assert "asked_at" not in {c["name"] for c in await _columns(empty_db, "response")}


async def _columns(db: Database, table: str) -> list[dict[str, object]]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: inspect(c).get_columns(table))


def _json(value: object) -> object:
    import json

    return json.loads(value) if isinstance(value, str) else value
