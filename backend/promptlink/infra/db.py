"""Async engine and session factory (SQLite with WAL by default, PostgreSQL by URL)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, ScalarSelect, Select, event, func, select, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from promptlink.infra import sqlite_driver

IMMEDIATE_OPTION = "promptlink_sqlite_immediate"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        if url.startswith("sqlite+aiosqlite") and "module" not in kwargs:
            # One thread hand-off per statement instead of three or four (infra/sqlite_driver.py).
            kwargs["module"] = sqlite_driver.dbapi()
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Write transactions take the write lock up front, so a read-then-write never
            # fails on a stale WAL snapshot; read-only sessions stay concurrent.
            immediate = conn.get_execution_options().get(IMMEDIATE_OPTION)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # The driver's own transaction handling would let the first SAVEPOINT's RELEASE
    # commit half a transaction: SQLAlchemy emits BEGIN itself instead.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def sync_sqlite_writer(engine: AsyncEngine) -> Engine | None:
    """A synchronous engine on the same SQLite file (same pragmas; every transaction BEGIN
    IMMEDIATE) for work done in one hop on a writer thread; None for other databases."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    sync = create_sync_engine(
        engine.url.set(drivername="sqlite"), connect_args={"timeout": 30, "check_same_thread": False}
    )
    event.listen(sync, "connect", _sqlite_pragmas)
    event.listen(sync, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return sync


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# SQLite has one writer. Waiting writers would poll SQLite's busy handler in no order
# (multi-second tails under load, bench/tickets.py); queueing them in the process is fair.
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


def writer_lock(sessions: async_sessionmaker[AsyncSession]) -> asyncio.Lock | None:
    bind = sessions.kw.get("bind")
    if bind is None or bind.dialect.name != "sqlite":
        return None
    return _SQLITE_WRITERS.setdefault(bind.sync_engine, asyncio.Lock())


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session inside one write transaction: committed on success, rolled back on error.

    Never nest: on SQLite a second write transaction in the same task would wait forever.
    """
    lock = writer_lock(sessions)
    async with lock if lock is not None else contextlib.nullcontext():
        async with sessions() as session, session.begin():
            await session.connection(execution_options={IMMEDIATE_OPTION: True})
            yield session


async def ping(engine: AsyncEngine) -> None:
    """Raise when the database cannot answer a trivial query."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def next_id(session: AsyncSession, table: Any) -> int:
    """The id the next row of `table` (a mapped class or Table with an integer `id`) will get,
    taken before its INSERT, so a number made from it (PL-2026-000042) is written by that INSERT.

    PostgreSQL: the id column's own sequence (`nextval`, safe under concurrency; a rolled-back
    transaction leaves a gap, as it does today). SQLite: the largest id + 1, which is the rowid
    SQLite itself would choose; correct because a write transaction holds the one write lock from
    its first statement (`transaction()`: BEGIN IMMEDIATE), so no other writer can insert meanwhile
    (and a deferred transaction cannot write over a newer snapshot: it fails instead of duplicating);
    the session's pending rows are flushed first, so two ids taken in one transaction differ.
    """
    if session.get_bind().dialect.name == "postgresql":
        name = getattr(table, "__tablename__", None) or table.name
        query: Any = text("SELECT nextval(pg_get_serial_sequence(:table, 'id'))").bindparams(table=name)
    else:
        # Rows of this table still pending in the session (an id taken before) count: a query run
        # on the connection does not autoflush.
        await session.flush()
        query = _sqlite_next_id_query(getattr(table, "__table__", table))
    value = await (await session.connection()).scalar(query)
    return int(value)


@functools.cache
def _sqlite_next_id_query(table: Any) -> Select[Any]:
    return select(sqlite_next_id(table))  # built once per table


def sqlite_next_id(table: Any) -> ScalarSelect[Any]:
    """SQLite: `next_id`'s value (the largest id + 1) as an expression, to be read by a statement
    that reads something else too (one statement instead of two). The same conditions as `next_id`:
    a write transaction, and no row of `table` pending in the session."""
    columns = getattr(table, "__table__", table).c
    return select(func.coalesce(func.max(columns.id), 0) + 1).scalar_subquery()
