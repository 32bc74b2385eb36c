"""The async engine and sessions, tuned per backend, and the migration runner."""

from __future__ import annotations

import asyncio
import contextvars
import copy
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError, InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction

from storage.sqlite_driver import sqlite_dbapi

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# PostgreSQL connections a process keeps for leasing queue rows (`Database.claims`).
CLAIMING = 3


class _Turn:
    """A unit of work's turn on one database; tasks started inside it inherit it, but only
    while it lasts."""

    def __init__(self, database: object) -> None:
        self.database = database
        self.active = True


_HOLDING: contextvars.ContextVar[_Turn | None] = contextvars.ContextVar("holding", default=None)


class BatchBroken(Exception):
    """A unit of work inside a batch failed: the whole batch rolls back, whoever caught it."""


class _Batch:
    """One unit of work that every unit of work its task opens joins, committed once."""

    def __init__(self, database: object, session: AsyncSession, turn: asyncio.Lock | None) -> None:
        self.database = database
        self.session = session
        self.task = asyncio.current_task()
        self.committed: list[Callable[[], object]] = []
        self.steps: dict[Hashable, Step] = {}
        self.broken: BaseException | None = None
        self._turn = turn
        self._holding = False
        # Stepped out for a platform call: units of work opened meanwhile are their own.
        self.away = False

    def joins(self, database: object) -> bool:
        return self.database is database and self.task is asyncio.current_task() and not self.away

    async def take_turn(self) -> None:
        if self._turn is not None and not self._holding:
            await self._turn.acquire()
            self._holding = True

    def give_turn(self) -> None:
        if self._turn is not None and self._holding:
            self._holding = False
            self._turn.release()

    def check(self) -> None:
        if self.broken is not None:
            raise BatchBroken(str(self.broken)) from self.broken

    async def run_committed(self) -> None:
        callbacks, self.committed = self.committed, []
        for callback in callbacks:
            callback()
        steps, self.steps = list(self.steps.values()), {}
        await _run_steps(steps)


Step = Callable[[], Awaitable[object]]


async def _run_steps(steps: list[Step]) -> None:
    """Follow-ups of committed work: one that fails is logged and the rest still run, as
    the work it followed stands (the sweeps redo what a lost follow-up would have done)."""
    for step in steps:
        try:
            await step()
        except Exception:
            log.exception("a step after a commit failed")


_BATCH: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("batch", default=None)

_BEFORE_COMMIT = "ritualbot.before_commit"
_SAVEPOINTS = "ritualbot.savepoints"
Finish = Callable[[AsyncSession], Awaitable[object]]


def before_commit(session: AsyncSession, key: str, finish: Finish) -> None:
    """Have ``finish`` write what the unit of work gathered under ``session.info[key]`` just
    before it commits, in it: many requests' rows of a batch then go in one statement. Once
    per ``key`` and commit; dropped with the unit of work when it rolls back, and put back as
    it was when a savepoint began if the savepoint rolls back."""
    session.info.setdefault(_BEFORE_COMMIT, {}).setdefault(key, finish)


class _Session(Session):
    """A session whose savepoints keep what is gathered for the commit consistent with what
    they roll back."""


@event.listens_for(_Session, "after_transaction_create")
def _savepoint_began(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        finishing = dict(session.info.get(_BEFORE_COMMIT, {}))
        gathered = {key: copy.copy(session.info.get(key)) for key in finishing}
        session.info.setdefault(_SAVEPOINTS, {})[transaction] = (finishing, gathered)


@event.listens_for(_Session, "after_rollback")
def _savepoint_rolled_back(session: Session) -> None:
    transaction = session.get_nested_transaction()
    saved = session.info.get(_SAVEPOINTS, {}).pop(transaction, None)
    if saved is None:
        return
    finishing, gathered = saved
    for key in session.info.get(_BEFORE_COMMIT, {}):
        if key not in finishing:
            session.info.pop(key, None)
    session.info[_BEFORE_COMMIT] = finishing
    for key, value in gathered.items():
        if value is None:
            session.info.pop(key, None)
        else:
            session.info[key] = value


@event.listens_for(_Session, "after_transaction_end")
def _savepoint_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.get(_SAVEPOINTS, {}).pop(transaction, None)


async def _commit(session: AsyncSession) -> None:
    while finishing := session.info.pop(_BEFORE_COMMIT, None):
        for finish in finishing.values():
            await finish(session)
    await session.commit()


# Seconds a pooled connection may sit unused and still be handed out untried; HikariCP's
# default for the same trade is half a second.
PING_AFTER = 0.5
IDLE_SINCE = "ritualbot_idle_since"


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info[IDLE_SINCE] = time.monotonic()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@asynccontextmanager
async def _unit(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """``async with session, session.begin()`` without the two trips through a greenlet
    that beginning and closing cost when nothing is connected: a transaction begins with
    the first statement, and a session holding none closes without any I/O."""
    try:
        yield session
        if session.in_transaction() or _BEFORE_COMMIT in session.info:
            await _commit(session)
    except BaseException:
        if session.in_transaction():
            await session.rollback()
        raise
    finally:
        if session.in_transaction():
            await session.close()
        else:
            session.sync_session.close()


class Database:
    """One engine per process; sessions are short and commit before anything is acknowledged."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        """``one_lane`` lists platforms whose outbound messages all share one lane; the
        composition root fills it (storage knows no platform by name)."""
        self.url = url
        self.one_lane: set[str] = set()
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if url.startswith("postgresql"):
            kwargs.update(pool_size=10, max_overflow=10)
        elif url.startswith("sqlite+aiosqlite"):
            kwargs["module"] = sqlite_dbapi()
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self.ping_after = PING_AFTER
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            self._claiming: AsyncEngine | None = None
        else:
            self._watch(self.engine)
            # Connections of their own for `claims`, planning each statement afresh: one for
            # the journal's worker and one for each of delivery's drainers.
            kwargs.update(pool_size=CLAIMING, max_overflow=0, isolation_level="AUTOCOMMIT")
            kwargs["connect_args"] = {"server_settings": {"plan_cache_mode": "force_custom_plan"}}
            self._claiming = self._watch(create_async_engine(url, **kwargs))
        self.sessions = async_sessionmaker(
            self.engine,
            expire_on_commit=False,
            info={"one_lane": self.one_lane},
            sync_session_class=_Session,
        )
        # The same pool, its connections lent without BEGIN and COMMIT (`single`).
        self._autocommit = (
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.dialect == "postgresql"
            else None
        )
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def _watch(self, engine: AsyncEngine) -> AsyncEngine:
        event.listen(engine.sync_engine, "checkin", _note_idle)
        event.listen(engine.sync_engine, "checkout", self._ping_if_idle)
        return engine

    def _ping_if_idle(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        """A pooled connection known to be closed, or idle for longer than ``ping_after`` and
        then found dead when tried, is replaced before it is handed out (a restart, a lost
        LISTEN connection). One handed back a moment ago goes out untried, which spares a
        round trip for each unit of work under load, as pre-ping would cost."""
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the connection was closed")
        idle_since = record.info.get(IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < self.ping_after:
            return
        dialect = self.engine.dialect
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise InvalidatePoolError(str(exc)) from exc
            raise

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends, rolled back if it raises.

        On SQLite, one file takes one writer at a time and a writer that finds it busy
        waits in steps of up to 100 ms; units of work in this process therefore take turns
        (in arrival order) before they touch the file. A unit of work opened inside another
        one of the same task goes ahead: it already holds the turn.
        """
        batch = _BATCH.get()
        if batch is not None and batch.joins(self):
            try:
                yield batch.session
            except BaseException as exc:
                batch.broken = batch.broken or exc
                raise
            return
        held = _HOLDING.get()
        if self.dialect != "sqlite" or (held and held.active and held.database is self):
            async with _unit(self.sessions()) as session:
                yield session
            return
        async with self._turn():
            turn = _Turn(self)
            token = _HOLDING.set(turn)
            try:
                async with _unit(self.sessions()) as session:
                    yield session
            finally:
                turn.active = False
                _HOLDING.reset(token)

    def single(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A unit of work of one statement (the door storing what arrived): on PostgreSQL
        the statement is its own transaction, sent without BEGIN and COMMIT, two round trips
        fewer. Anything more in the block would commit statement by statement, so it holds
        one. Elsewhere, and inside a batch, it is an ordinary `session`."""
        return self._one_statement(self._autocommit)

    def claims(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A one-statement unit of work that leases a queue's next rows (the journal's, the
        outbox's), as `single` sends it, but on PostgreSQL on connections of its own that
        plan every statement for the table as it is now.

        A queue swings from empty to thousands of rows within seconds, long before
        autovacuum looks at it again, and PostgreSQL goes on reusing the plan it made for a
        prepared statement while the table was nearly empty: a claim then searched the lane
        heads once for every waiting row, 0.3 to 2 s a claim with 12,000 replies waiting.
        Planning afresh costs under a millisecond (0.3-0.7 ms with 60,000 messages
        waiting), once per claim of up to a batch."""
        return self._one_statement(self._claiming)

    @asynccontextmanager
    async def _one_statement(self, bind: AsyncEngine | None) -> AsyncIterator[AsyncSession]:
        batch = _BATCH.get()
        if bind is None or (batch is not None and batch.joins(self)):
            async with self.session() as session:
                yield session
            return
        async with _unit(self.sessions(bind=bind)) as session:
            yield session

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """One commit for many units of work: every `session()` this task opens inside joins
        this one. If any of them fails, even one whose caller went on, the whole batch rolls
        back (`BatchBroken`), and what waited for the commit (`after_commit`) never runs."""
        async with self.sessions() as session:
            batch = _Batch(self, session, self._turn() if self.dialect == "sqlite" else None)
            token = _BATCH.set(batch)
            try:
                await batch.take_turn()
                try:
                    yield
                    batch.check()
                    await _commit(session)
                except BaseException:
                    await session.rollback()
                    raise
                finally:
                    batch.give_turn()
            finally:
                _BATCH.reset(token)
        await batch.run_committed()

    @asynccontextmanager
    async def outside(self) -> AsyncIterator[None]:
        """A call to a platform in the middle of a batch: what the batch wrote so far is
        committed and its turn on the database given up until the call returns, so requests
        waiting for their acknowledgement are never held behind a slow platform. Units of
        work opened meanwhile are units of their own."""
        batch = _BATCH.get()
        if batch is None or not batch.joins(self):
            yield
            return
        batch.check()
        try:
            await _commit(batch.session)
        except BaseException as exc:
            batch.broken = batch.broken or exc
            raise
        batch.give_turn()
        batch.away = True
        try:
            await batch.run_committed()
            yield
        finally:
            batch.away = False
            await batch.take_turn()

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` once what this task wrote is committed: now, or when its batch
        commits (waking delivery before the commit would find nothing to send)."""
        batch = _BATCH.get()
        if batch is not None and batch.joins(self):
            batch.committed.append(callback)
        else:
            callback()

    async def when_committed(self, step: Step, key: Hashable | None = None) -> None:
        """Await ``step`` once what this task wrote is committed: now, or when its batch
        commits or steps outside. Called after the caller's own unit of work has ended (not
        inside an open one, which has not committed yet); in a batch that unit has not
        committed either, and a step that ran now would see and act on work that may still
        roll back (and run again when it is retried). Steps of one batch with the same
        ``key`` do the same thing, and run once."""
        batch = _BATCH.get()
        if batch is not None and batch.joins(self):
            batch.steps.setdefault(object() if key is None else key, step)
        else:
            await _run_steps([step])

    def _turn(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._turns.get(loop)
        if lock is None:
            lock = self._turns[loop] = asyncio.Lock()
        return lock

    async def ping(self) -> None:
        """Both pools reach the server: one that cannot lease work is as down as one that
        cannot store it (a pooler refusing `plan_cache_mode`, say)."""
        for engine in (self.engine, self._claiming):
            if engine is not None:
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))

    async def upgrade(self) -> list[str]:
        """Apply every migration not yet applied; the revisions applied, oldest first."""
        async with self.engine.begin() as conn:
            return await conn.run_sync(_upgrade)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._claiming is not None:
            await self._claiming.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> list[str]:
    config = alembic_config(connection)
    before = MigrationContext.configure(connection).get_current_revision()
    command.upgrade(config, "head")
    after = MigrationContext.configure(connection).get_current_revision()
    if after is None or after == before:
        return []
    script = ScriptDirectory.from_config(config)
    applied = [r.revision for r in script.iterate_revisions(after, before)]
    return list(reversed(applied))
