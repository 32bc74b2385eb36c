"""aiosqlite as SQLAlchemy drives it, with statements run where they are cheapest.

SQLAlchemy's aiosqlite adapter makes four trips to aiosqlite's thread for each statement
(open a cursor, execute, fetch, close), each a queue hand-off and a wake-up of the event loop
back; on a request that runs a handful of indexed statements those trips cost several times
what SQLite itself does. Here a statement runs in the event loop's own thread, which is
cheapest for the small ones a request runs, and goes to the connection's thread as one call
when it would hold the loop up:

- when the file is locked by another process (it is tried without waiting first; the thread
  then waits up to ``BUSY_WAIT_MS`` for the lock, as SQLite's busy timeout would);
- when it is known to take long: a full-text search (``MATCH``), an ``executemany`` of more
  than ``FAN_OUT_ROWS`` rows, or SQL that took longer than ``INLINE_AT_MOST`` seconds twice.

Commits and rollbacks stay in the thread, waiting for the lock like the statements there: a
commit may checkpoint the write-ahead log, which writes the database file. Ending a unit of
work that changed nothing (every connection handed back to the pool is rolled back) makes no
trip at all.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

__all__ = ["BUSY_WAIT_MS", "INLINE_AT_MOST", "run_here_or_there", "sqlite_dbapi"]

# How long a statement may wait for another process's lock on the file (in the thread).
BUSY_WAIT_MS = 10_000
# A statement that took longer than this in the loop's thread runs in the connection's from
# then on: the loop answers every other request meanwhile.
INLINE_AT_MOST = 0.002
_SLOW: set[str] = set()
_LONG_ONCE: set[str] = set()
_SLOW_AT_MOST = 1_000  # kinds of slow SQL remembered; a bounded set, past it all go inline
_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_IN_LIST = re.compile(r"\(\?(?:, \?)+\)")
# An executemany of more rows than this runs in the thread from the start.
FAN_OUT_ROWS = 100

# What one statement leaves behind: description, rows, lastrowid, rowcount.
_Outcome = tuple[Any, list[Any], int | None, int]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        if cursor.description and not many:
            return cursor.description, cursor.fetchall(), -1, -1
        return None, [], cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


def _waiting(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> _Outcome:
    """The statement in the connection's thread, waiting for the file's lock if need be."""
    with _patient(connection):
        return _run(connection, operation, parameters, many)


@contextmanager
def _patient(connection: sqlite3.Connection) -> Iterator[None]:
    """SQLite's busy timeout for the block, in the connection's thread only."""
    connection.execute(f"PRAGMA busy_timeout={BUSY_WAIT_MS}")
    try:
        yield
    finally:
        connection.execute("PRAGMA busy_timeout=0")


def _end(connection: sqlite3.Connection, commit: bool) -> None:
    with _patient(connection):
        if commit:
            connection.commit()
        else:
            connection.rollback()


def _ran_long(operation: str) -> None:
    """The second time the same SQL runs long it is slow, not just new: a statement's first
    run on a connection includes SQLite preparing it."""
    if operation in _LONG_ONCE:
        if len(_SLOW) < _SLOW_AT_MOST:
            _SLOW.add(operation)
    elif len(_LONG_ONCE) < _SLOW_AT_MOST:
        _LONG_ONCE.add(operation)


def _locked_out(error: sqlite3.OperationalError) -> bool:
    return (getattr(error, "sqlite_errorcode", 0) & 0xFF) in _BUSY


async def _here_or_there(
    connection: aiosqlite.Connection, operation: str, parameters: Any, many: bool
) -> _Outcome:
    """A coroutine even when it runs here: SQLAlchemy's greenlet bridge expects one."""
    raw = connection._conn
    if not _off_loop(operation, parameters, many):
        started = time.perf_counter()
        try:
            outcome = _run(raw, operation, parameters, many)
        except sqlite3.OperationalError as error:
            if not _locked_out(error):
                raise
        else:
            if time.perf_counter() - started > INLINE_AT_MOST:
                _ran_long(_key(operation))
            return outcome
    return await connection._execute(_waiting, raw, operation, parameters, many)


async def run_here_or_there(
    connection: aiosqlite.Connection, operation: str, parameters: Any
) -> _Outcome:
    """One statement on ``connection`` as SQLAlchemy's cursor would run it (`storage.direct`
    runs its statements through here without SQLAlchemy)."""
    return await _here_or_there(connection, operation, parameters, False)


def _key(operation: str) -> str:
    """The SQL without the length of its expanded IN lists (one ``?`` per item), so one
    statement stays one entry whatever the list's length."""
    return _IN_LIST.sub("(?…)", operation) if ", ?" in operation else operation


def _off_loop(operation: str, parameters: Any, many: bool) -> bool:
    """Known before it runs to be too long for the loop: a full-text search, a fan-out of
    many rows, or SQL seen running long (looked up only once there is any: the key's
    pattern costs more than the small statements it would be asked about)."""
    if many and len(parameters) > FAN_OUT_ROWS:
        return True
    return " MATCH " in operation or (bool(_SLOW) and _key(operation) in _SLOW)


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _trip(self, operation: Any, parameters: Any, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        try:
            outcome = self.await_(_here_or_there(connection, operation, parameters, many))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description, rows, self.lastrowid, self.rowcount = outcome
        self._rows = deque(rows)

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._trip(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._trip(operation, seq_of_parameters, many=True)


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def _idle(self) -> bool:
        """No transaction is open (sqlite3 opens one only before a change): ending it is
        nothing to do, and not worth a trip to the thread."""
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        try:
            return not connection._conn.in_transaction
        except ValueError:  # closed: let SQLAlchemy's path say so
            return False

    def commit(self) -> None:
        if not self._idle():
            self._end(commit=True)

    def rollback(self) -> None:
        if not self._idle():
            self._end(commit=False)

    def _end(self, *, commit: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        try:
            self.await_(connection._execute(_end, connection._conn, commit))
        except Exception as error:
            self._handle_exception(error)

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        return super().cursor(True) if server_side else _Cursor(self)


class _Dbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        if not kw.get("async_fallback"):
            # Used from the loop's thread too, and never left sleeping there on a lock.
            kw.update(check_same_thread=False, timeout=0)
        adapted = super().connect(*arg, **kw)
        if type(adapted) is not AsyncAdapt_aiosqlite_connection:
            return adapted  # the sync fallback some tools use keeps SQLAlchemy's own cursor
        return _Connection(self, adapted._connection)


def sqlite_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DBAPI module to hand `create_async_engine(..., module=...)` for aiosqlite URLs.
    Its connections keep SQLite's busy timeout at 0 (leave `PRAGMA busy_timeout` alone): a
    statement tried in the loop's thread must never sleep there waiting for a lock."""
    return _Dbapi(aiosqlite, sqlite3)
