"""aiosqlite as SQLAlchemy drives it, with one trip to the connection's thread per statement.

SQLAlchemy's aiosqlite adapter makes four trips for each statement (open a cursor, execute,
fetch, close), each a queue hand-off to aiosqlite's thread and a wake-up of the event loop
back; on a request that runs a handful of statements those trips cost more CPU than SQLite
itself. Here the cursor's whole life runs in the thread as one call.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

__all__ = ["one_trip_dbapi"]

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
        if cursor.description:
            return cursor.description, cursor.fetchall(), -1, -1
        return None, [], cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class _OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _trip(self, operation: Any, parameters: Any, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        try:
            outcome = self.await_(
                connection._execute(_run, connection._conn, operation, parameters, many)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description, rows, self.lastrowid, self.rowcount = outcome
        self._rows = deque(rows)

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._trip(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._trip(operation, seq_of_parameters, many=True)


class _OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        return super().cursor(True) if server_side else _OneTripCursor(self)


class _OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        if type(adapted) is not AsyncAdapt_aiosqlite_connection:
            return adapted  # the sync fallback some tools use keeps SQLAlchemy's own cursor
        return _OneTripConnection(self, adapted._connection)


def one_trip_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DBAPI module to hand `create_async_engine(..., module=...)` for aiosqlite URLs."""
    return _OneTripDbapi(aiosqlite, sqlite3)
