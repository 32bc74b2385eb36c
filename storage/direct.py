"""Statements on the hot paths, handed straight to the driver inside the session's transaction.

A small SELECT costs SQLite about 4 µs and asyncpg about 70 µs of CPU; through SQLAlchemy's
execution and result machinery it costs 40 to 100 µs more, and through the ORM (objects
loaded into the identity map, changes flushed by the unit of work) more again; every request
runs several. Here a statement is compiled once per backend, with its bind and result
conversions, and each run binds its values, runs the SQL on the session's own connection and
converts the rows, nothing else.

For Core statements (SELECT, with row locks or without, and INSERT, UPDATE or DELETE, with
RETURNING or without) whose parameters are plain values (no expanding ``IN`` lists; those go
through the session). Pending ORM changes are flushed first, as a statement through the
session would see them. What these statements write, an object of the same row the session
holds does not see until told (`written`; `change` tells it itself). Failures are raised as
SQLAlchemy raises them. Listeners of the engine's `before_cursor_execute` see these
statements as they see the rest; SQLAlchemy's own echo does not.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, inspect, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from storage import sqlite_driver

Convert = Callable[[Any], Any]


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]
    fixed: dict[str, Any]
    binds: dict[str, Convert]
    results: tuple[Convert | None, ...]

    def arguments(self, values: dict[str, Any]) -> tuple[Any, ...]:
        merged = {**self.fixed, **values}
        missing = [name for name in self.names if name not in merged]
        if missing:
            raise KeyError(f"no value for {', '.join(missing)}")
        return tuple(
            self.binds[name](merged[name]) if name in self.binds else merged[name]
            for name in self.names
        )

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if convert is None or value is None else convert(value)
            for convert, value in zip(self.results, raw, strict=True)
        )


_PLANS: dict[tuple[str, Hashable], _Plan] = {}


def _plan(statement: Any, dialect: Dialect) -> _Plan:
    compiled = statement.compile(dialect=dialect)
    if compiled.post_compile_params or compiled.literal_execute_params:
        raise ValueError("an expanding parameter cannot be bound ahead; use session.execute")
    names = tuple(compiled.positiontup or ())
    fixed = {
        name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
    }
    # Column defaults SQLAlchemy would fill in on the Python side at each execution: a
    # fixed value is bound like a literal; one computed per row cannot be bound ahead.
    inserting = set(compiled.insert_prefetch)
    for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
        default = column.default if column in inserting else column.onupdate
        if default is None or not default.is_scalar:
            raise ValueError(f"{column.key} has a default computed per row; give its value")
        fixed[column.key] = default.arg
    results = tuple(
        column.type._cached_result_processor(dialect, None) for column in compiled._result_columns
    )
    return _Plan(compiled.string, names, fixed, dict(compiled._bind_processors), results)


async def rows(
    session: AsyncSession, key: Hashable, build: Callable[[], Any], values: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """The rows of the statement ``build`` makes (once per backend, remembered by ``key``):
    a SELECT's, or what an INSERT, UPDATE or DELETE returns (none without RETURNING)."""
    dialect = session.bind.dialect
    plan = _PLANS.get((dialect.name, key))
    if plan is None:
        plan = _PLANS[(dialect.name, key)] = _plan(build(), dialect)
    sync = session.sync_session
    if sync.autoflush and (sync.new or sync.dirty or sync.deleted):
        await session.flush()
    arguments = plan.arguments(values)
    async_connection = await session.connection()
    engine = async_connection.sync_engine
    if engine.dispatch.before_cursor_execute:  # what watches the engine's SQL sees these too
        engine.dispatch.before_cursor_execute(
            async_connection.sync_connection, None, plan.sql, arguments, None, False
        )
    connection = await async_connection.get_raw_connection()
    adapted: Any = connection.dbapi_connection
    try:
        found = await _run(dialect, adapted, plan, arguments)
    except Exception as exc:
        # Raised as SQLAlchemy raises it (IntegrityError, OperationalError, ... with the
        # driver's error as ``orig``); a lost connection is thrown away, as there.
        error = _translated(dialect, adapted, exc)
        lost = dialect.is_disconnect(error, adapted, None)
        if lost:
            await async_connection.invalidate(error)
        raise DBAPIError.instance(
            plan.sql,
            arguments,
            error,
            dialect.loaded_dbapi.Error,
            hide_parameters=True,
            connection_invalidated=lost,
            dialect=dialect,
        ) from exc
    except BaseException:
        # A statement cut off half-way (a cancelled request, its time up): the connection
        # is thrown away, not handed back with a statement still running on it or a
        # transaction half begun.
        await async_connection.invalidate()
        raise
    return [plan.row(row) for row in found]


def _translated(dialect: Dialect, adapted: Any, error: Exception) -> Exception:
    """asyncpg's own errors as the DB-API errors SQLAlchemy's adapter makes of them."""
    if dialect.name != "postgresql":
        return error
    try:
        adapted._handle_exception(error)
    except Exception as translated:
        return translated
    return error


async def _run(dialect: Dialect, adapted: Any, plan: _Plan, arguments: tuple[Any, ...]) -> Any:
    if dialect.name == "postgresql":
        async with adapted._execute_mutex:
            if not adapted._started:  # the transaction SQLAlchemy would begin here
                await adapted._start_transaction()
            return await adapted._connection.fetch(plan.sql, *arguments)
    _, found, _, _ = await sqlite_driver.run_here_or_there(adapted._connection, plan.sql, arguments)
    return found


async def change(session: AsyncSession, loaded: Any, **values: Any) -> None:
    """Set attributes of an object the session holds by one UPDATE of its row here, the
    object kept in step: its new values count as already written, so the unit of work has
    nothing left to flush for them (its flush of the same change costs several times the
    statement)."""
    state = inspect(loaded)
    if not state.persistent:
        raise ValueError("only an object the session loaded or flushed can be changed here")
    mapper = state.mapper
    (key,) = mapper.primary_key
    names = tuple(sorted(values))

    def build() -> Any:
        table = mapper.local_table
        return (
            update(table)
            .where(key == bindparam("row_id"))
            .values({mapper.columns[name].name: bindparam(name) for name in names})
        )

    (row_id,) = state.identity
    await rows(
        session, ("change", mapper.class_.__name__, names), build, {"row_id": row_id, **values}
    )
    written(session, mapper.class_, row_id, values)


def written(session: AsyncSession, model: type[Any], row_id: Any, values: dict[str, Any]) -> None:
    """After a row was changed here: the object of it the session holds, if any, takes the
    new values (attribute names) as already written, so nothing it reads later is stale."""
    held = session.sync_session.identity_map.get(identity_key(model, (row_id,)))
    if held is not None:
        for name, value in values.items():
            set_committed_value(held, name, value)
