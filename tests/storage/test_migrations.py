"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import StatementError

from storage import fulltext
from storage.db import Database, alembic_config
from storage.models import Base, InboundEvent

WRITES = ("CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE")
# SQLite has no full-text indexes (`storage.fulltext` makes them on PostgreSQL only), and
# alembic says so for each while it compares; PostgreSQL compares them expression by expression.
pytestmark = pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index"
)


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"migrations must have a single head, found {heads}"
    return heads[0]


def schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": fulltext.include_name}
    )
    return compare_metadata(context, Base.metadata)


def schema_snapshot(connection: Connection) -> dict[str, Any]:
    inspector = inspect(connection)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            sorted(i["name"] or "" for i in inspector.get_indexes(table)),
        )
        for table in sorted(inspector.get_table_names())
    }


async def version_rows(db: Database) -> list[str]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
        return [row[0] for row in rows]


async def test_migrated_schema_matches_the_models(db: Database) -> None:
    # Nothing is ignored: every table, column type, nullability, index and constraint of
    # the models must be what the migrations created. SQLite's full-text tables are no
    # model's; tests/storage/test_fulltext.py holds them to their declarations.
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(schema_diff)
    assert diff == []


async def test_migrations_create_every_model_table(db: Database) -> None:
    async with db.engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    fulltext_tables = {
        f"{fts}{part}"
        for fts in fulltext.DECLARED
        for part in ("", "_data", "_idx", "_docsize", "_config")
    }
    expected = set(Base.metadata.tables) | {"alembic_version"}
    if db.dialect == "sqlite":
        expected |= fulltext_tables
    assert tables == expected


async def test_alembic_version_is_the_head(db: Database) -> None:
    assert await version_rows(db) == [head_revision()]


async def test_upgrade_again_is_a_no_op(db: Database) -> None:
    async with db.engine.connect() as conn:
        before = await conn.run_sync(schema_snapshot)

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        await db.upgrade()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)

    assert any("alembic_version" in s for s in statements), "upgrade did not check the version"
    writes = [s for s in statements if s.lstrip().upper().startswith(WRITES)]
    assert writes == []
    assert await version_rows(db) == [head_revision()]
    async with db.engine.connect() as conn:
        assert await conn.run_sync(schema_snapshot) == before
        assert await conn.run_sync(schema_diff) == []


# --- UTCDateTime ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        datetime(2026, 11, 1, 5, 30, 0, 123456, tzinfo=UTC),
        # 01:30 EDT on the fall-back day, the first of the two 01:30s
        datetime(2026, 11, 1, 1, 30, 0, 654321, tzinfo=ZoneInfo("America/New_York")),
        datetime(2026, 3, 29, 23, 59, 59, 999999, tzinfo=ZoneInfo("Asia/Kolkata")),
    ],
    ids=["utc", "new-york", "kolkata"],
)
async def test_utc_datetime_round_trips_an_aware_instant(db: Database, written: datetime) -> None:
    async with db.session() as session:
        session.add(InboundEvent(platform="test", delivery_id="d1", received_at=written))

    async with db.session() as session:
        read = (await session.execute(select(InboundEvent.received_at))).scalar_one()

    # Compared as UTC: Python never calls an ambiguous wall time (fold-dependent offset)
    # equal to a datetime in another zone, even when both are the same instant (PEP 495).
    assert read == written.astimezone(UTC)
    assert read.timestamp() == written.timestamp()
    assert read.tzinfo is UTC


async def test_utc_datetime_rejects_a_naive_datetime(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime") as raised:
        async with db.session() as session:
            session.add(
                InboundEvent(platform="test", delivery_id="d1", received_at=datetime(2026, 1, 1))
            )
    assert isinstance(raised.value.orig, ValueError)

    async with db.session() as session:
        assert (await session.execute(select(InboundEvent))).scalars().all() == []
