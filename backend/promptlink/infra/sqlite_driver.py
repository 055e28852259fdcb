"""SQLite through aiosqlite with one thread hand-off per statement instead of three or four.

aiosqlite runs every call on its connection's own thread; SQLAlchemy's adapter
(`sqlalchemy.dialects.sqlite.aiosqlite`) makes four such calls for a statement that returns rows
(`cursor()`, `execute`, `fetchall`, `close`) and three for one that does not. Each is a queue put,
a wake-up of that thread and of the event loop, and a greenlet switch: about 30 µs of CPU, so a
ticket create (a dozen statements) paid over 1 ms for hand-offs alone (issue #17, docs/performance.md).

This adapter runs the whole statement (cursor, execute, fetch every row, close) as one call on
that thread. The statement, its parameters, its rows, `description`, `rowcount`, `lastrowid` and
the exceptions raised are the same as the stock adapter's; only the number of hand-offs changes.
It relies on aiosqlite's `Connection._execute` (run a function on the connection's thread) and
`_conn` (the sqlite3 connection), as SQLAlchemy's own adapter does for `isolation_level`; when a
version of aiosqlite has neither, the stock adapter is used (`dbapi()` returns None).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

# (description, rows, lastrowid, rowcount) of one statement, as a DBAPI cursor reports them.
Outcome = tuple[Any, list[Any], int | None, int]


def _run(conn: sqlite3.Connection, operation: str, parameters: Any) -> Outcome:
    """On the connection's thread: one statement, from cursor to close."""
    cursor = conn.cursor()
    try:
        cursor.execute(operation, () if parameters is None else parameters)
        if cursor.description:
            return cursor.description, cursor.fetchall(), -1, -1
        return None, [], cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


def _run_many(conn: sqlite3.Connection, operation: str, seq_of_parameters: Sequence[Any]) -> Outcome:
    cursor = conn.cursor()
    try:
        cursor.executemany(operation, seq_of_parameters)
        return None, [], cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor (buffered: every row fetched at execute), one hand-off per statement."""

    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            outcome = self.await_(self._connection._execute(_run, self._connection._conn, operation, parameters))
        except Exception as error:  # noqa: BLE001 - translated (or re-raised) as the stock adapter does
            self._adapt_connection._handle_exception(error)
        self._take(outcome)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            outcome = self.await_(
                self._connection._execute(_run_many, self._connection._conn, operation, seq_of_parameters)
            )
        except Exception as error:  # noqa: BLE001 - as above
            self._adapt_connection._handle_exception(error)
        self._take(outcome)

    def _take(self, outcome: Outcome) -> None:
        description, rows, lastrowid, rowcount = outcome
        self.description = description
        self._rows = deque(rows)
        self.lastrowid = lastrowid  # type: ignore[assignment] # sqlite3's value, as the stock adapter keeps it
        self.rowcount = rowcount


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        return super().cursor(server_side) if server_side else OneHopCursor(self)


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy's aiosqlite dialect uses, with `OneHopConnection`s."""

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        if type(adapted) is not AsyncAdapt_aiosqlite_connection:
            return adapted  # the fallback (synchronous) mode: left as SQLAlchemy made it
        return OneHopConnection(self, adapted._connection)


def dbapi() -> OneHopDbapi | None:
    """The module to give `create_async_engine(module=...)` for sqlite+aiosqlite URLs, or None
    when this aiosqlite lacks what the adapter needs."""
    if not hasattr(aiosqlite.Connection, "_execute"):
        return None
    return OneHopDbapi(aiosqlite, sqlite3)
