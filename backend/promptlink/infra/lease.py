"""Cluster-wide singletons: a `Lease` gives a name one holder at a time, `Singleton` runs a
component in whichever process holds it (issue 16, docs/architecture.md "Singletons").

- PostgreSQL: a session-level `pg_try_advisory_lock(key)` on a connection of its own, held for
  the lease's lifetime (the key is derived from the name). When the holder dies, or its
  connection does, the server drops the lock and a standby takes it at its next poll. The
  holder runs `SELECT 1` on that connection at every check and stops its component at once when
  the connection is gone. The connection has an `idle_session_timeout`: a holder frozen longer
  than that (SIGSTOP, a blocked loop) loses its session, so the lock, too.
- SQLite (one machine): `fcntl.flock` on `<var_dir>/run/lease-<name>.lock`, which the kernel
  releases when the process dies.

Each acquisition increments the lease's `generation` in the `leases` table (with the holder and
the time): the fencing token. A holder's transaction calls `Fence.verify` before committing, so
a holder that was paused while another process took over cannot commit (`LeaseLost`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import BigInteger, DateTime, String, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from promptlink.infra.db import create_engine, transaction

log = logging.getLogger(__name__)

# One statement on both databases (SQLite >= 3.35 has RETURNING): the first acquisition is
# generation 1, each later one the previous plus one.
_BUMP = text(
    "INSERT INTO leases (name, holder, generation, acquired_at) VALUES (:name, :holder, 1, :at) "
    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, generation = leases.generation + 1, "
    "acquired_at = excluded.acquired_at RETURNING generation"
).bindparams(bindparam("at", type_=DateTime(timezone=True)))
_GENERATION = text("SELECT generation FROM leases WHERE name = :name")
_GENERATION_FOR_SHARE = text("SELECT generation FROM leases WHERE name = :name FOR SHARE")
_RECORDS = text("SELECT name, holder, generation, acquired_at FROM leases ORDER BY name").columns(
    name=String, holder=String, generation=BigInteger, acquired_at=DateTime(timezone=True)
)


class LeaseLost(RuntimeError):
    """This process no longer holds the lease: what it was about to commit must not be committed."""


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for `pg_try_advisory_lock` (the same in every process and release)."""
    return int.from_bytes(hashlib.sha256(f"promptlink-lease:{name}".encode()).digest()[:8], "big", signed=True)


def process_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Fence:
    """The fencing token of one acquisition: `verify` inside a write transaction, before its commit."""

    name: str
    generation: int

    async def verify(self, session: AsyncSession) -> None:
        """Raise `LeaseLost` unless the lease's generation is still this one.

        On PostgreSQL the row is read `FOR SHARE`: a new holder's generation bump waits until this
        transaction has committed, so it either commits under the current generation or not at all.
        (SQLite runs one write transaction at a time already.)
        """
        query = _GENERATION if session.get_bind().dialect.name == "sqlite" else _GENERATION_FOR_SHARE
        current = await session.scalar(query, {"name": self.name})
        if current != self.generation:
            raise LeaseLost(f"lease {self.name!r} is at generation {current}, this process held {self.generation}")


def lock_path(var_dir: Path, name: str) -> Path:
    """SQLite: the file whose `flock` is lease `name`."""
    return var_dir / "run" / f"lease-{name}.lock"


async def held_leases(database_url: str, var_dir: Path | None) -> list[str]:
    """The leases a live process holds now (advisory locks on PostgreSQL, lock files under `var_dir` on
    SQLite), among those the `leases` table names. Each is only tested — taken and given back at once —
    and nothing is written."""
    engine = create_engine(database_url)
    held: list[str] = []
    try:
        async with engine.connect() as conn:
            names = list(await conn.scalars(text("SELECT name FROM leases ORDER BY name")))
            if engine.dialect.name == "postgresql":
                for name in names:
                    key = {"k": advisory_key(name)}
                    if await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), key):
                        await conn.execute(text("SELECT pg_advisory_unlock(:k)"), key)
                    else:
                        held.append(name)
                return held
    finally:
        await engine.dispose()
    if var_dir is None:
        return held
    for name in names:
        path = lock_path(var_dir, name)
        if not path.is_file():
            continue
        with path.open("rb") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held.append(name)
            else:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return held


class Lease:
    """One holder cluster-wide for `name`, among the processes sharing `sessions`' database."""

    def __init__(
        self,
        name: str,
        *,
        sessions: async_sessionmaker[AsyncSession],
        var_dir: Path,
        holder: str | None = None,
        check_timeout: float = 5.0,
        idle_timeout: float = 10.0,
    ) -> None:
        engine: AsyncEngine | None = sessions.kw.get("bind")
        assert engine is not None, "the sessions must be bound to an engine"
        self.name, self.sessions, self.engine = name, sessions, engine
        self.holder = holder or process_identity()
        self.check_timeout = check_timeout
        self.idle_timeout = idle_timeout
        self.key = advisory_key(name)
        self.lock_path = lock_path(var_dir, name)
        self.fence: Fence | None = None  # set while held
        self._pg_engine: AsyncEngine | None = None
        self._conn: AsyncConnection | None = None
        self._file: IO[bytes] | None = None

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @property
    def held(self) -> bool:
        return self.fence is not None

    async def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; True when this process holds it now."""
        if self.held:
            return True
        taken = await (self._acquire_pg() if self.is_postgres else self._acquire_file())
        if taken:
            log.info("lease acquired", extra={"lease": self.name, "generation": self.fence and self.fence.generation})
        return taken

    async def check(self) -> bool:
        """Is the lease still held? On PostgreSQL a `SELECT 1` on the lease's connection: a lost
        (or unanswering) connection means the server has dropped, or will drop, the lock."""
        if not self.held:
            return False
        if self._conn is None:
            return True  # the file lock lasts as long as the process and its open file
        try:
            await asyncio.wait_for(self._conn.execute(text("SELECT 1")), timeout=self.check_timeout)
            return True
        except Exception as exc:  # noqa: BLE001 - any failure means the lock may be gone
            log.warning("lease lost", extra={"lease": self.name, "error": f"{type(exc).__name__}: {exc}"[:300]})
            await self._drop()
            return False

    async def release(self) -> None:
        """Give the lease up (the holder's component must be stopped first)."""
        if self._conn is not None and self.held:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key}),
                    timeout=self.check_timeout,
                )
        if self.held:
            log.info("lease released", extra={"lease": self.name})
        await self._drop()

    async def close(self) -> None:
        await self.release()
        if self._pg_engine is not None:
            await self._pg_engine.dispose()
            self._pg_engine = None

    async def _acquire_pg(self) -> bool:
        if self._conn is None:
            if self._pg_engine is None:
                # A connection of its own, outside the application's pool, for the lease's lifetime.
                self._pg_engine = create_async_engine(self.engine.url, poolclass=NullPool)
            conn = await self._pg_engine.connect()
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            self._conn = conn
            # A holder that stops answering (frozen, its loop blocked) without losing its connection
            # would keep the lock forever: the server ends a session idle this long, freeing the lock.
            # A live holder uses its connection every poll / 4 and a standby every poll.
            await conn.execute(
                text("SELECT set_config('idle_session_timeout', :ms, false)"),
                {"ms": str(int(self.idle_timeout * 1000))},
            )
        try:
            got = await self._conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
            if not got:
                return False
            generation = await self._conn.scalar(_BUMP, self._row())
        except Exception:
            await self._drop()
            raise
        self.fence = Fence(self.name, int(generation or 0))
        return True

    async def _acquire_file(self) -> bool:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.lock_path.open("a+b")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        try:
            async with transaction(self.sessions) as session:
                generation = await session.scalar(_BUMP, self._row())
        except BaseException:
            handle.close()  # closing the file drops the lock
            raise
        self._file = handle
        self.fence = Fence(self.name, int(generation or 0))
        return True

    def _row(self) -> dict[str, Any]:
        return {"name": self.name, "holder": self.holder[:255], "at": datetime.now(UTC)}

    async def _drop(self) -> None:
        """Forget the lease: close the lease's connection (the server drops its locks) or the lock file."""
        self.fence = None
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()
        handle, self._file = self._file, None
        if handle is not None:
            handle.close()


async def lease_records(sessions: async_sessionmaker[AsyncSession]) -> dict[str, dict[str, Any]]:
    """Every lease's last holder, generation and acquisition time, by name."""
    async with sessions() as session:
        rows = await session.execute(_RECORDS)
        out: dict[str, dict[str, Any]] = {}
        for name, holder, generation, acquired_at in rows.tuples():
            if isinstance(acquired_at, datetime) and acquired_at.tzinfo is None:  # SQLite stores UTC, naive
                acquired_at = acquired_at.replace(tzinfo=UTC)
            out[name] = {"holder": holder, "generation": int(generation), "acquired_at": acquired_at}
        return out


Start = Callable[[Fence], Awaitable[None]]
Stop = Callable[[], Awaitable[None]]


class Singleton:
    """Runs a component in the one process that holds its lease.

    A standby tries to take the lease every `poll` seconds; on acquisition it calls `start(fence)`.
    The holder checks its lease every `poll / 4` seconds and calls `stop()` as soon as it is lost.
    On PostgreSQL a new holder waits `poll / 2` between acquiring and starting: a former holder
    whose connection the server dropped (so the lock became free) has stopped by then. (A holder
    frozen longer than the lease's idle timeout loses its session and the lock without checking;
    when it wakes, its next check stops it, and the fencing generation refuses what it was about to
    commit.) Takeover after a holder dies: at most about `1.5 * poll` after the server drops its
    session.
    A component that fails to start gives the lease back, so another process may run it.
    `state` is `active`, `standby`, or `down: <why>` (a start that failed here).
    """

    def __init__(self, lease: Lease, *, start: Start, stop: Stop, poll: float) -> None:
        self.lease, self._start, self._stop, self.poll = lease, start, stop, poll
        self.check_every = poll / 4
        self.grace = poll / 2 if lease.is_postgres else 0.0  # a file lock outlives no process
        self.state = "standby"
        self.active = False
        self._task: asyncio.Task[None] | None = None
        self._last_error = ""

    @property
    def name(self) -> str:
        return self.lease.name

    async def begin(self) -> None:
        """A first attempt now (a lone process starts its component before it serves), then the poll loop."""
        await self.step()
        self._task = asyncio.create_task(self._loop(), name=f"singleton-{self.name}")

    async def step(self) -> None:
        """One poll: a standby tries to take the lease; the holder checks it is still held."""
        try:
            if self.active:
                if not await self.lease.check():
                    await self._deactivate("lease lost")
                return
            if not await self.lease.try_acquire():
                if self.state.startswith("down"):
                    self.state = "standby"  # another process holds it now
                return
            if self.grace:
                await asyncio.sleep(self.grace)
                if not await self.lease.check():
                    return
            assert self.lease.fence is not None
            try:
                await self._start(self.lease.fence)
            except Exception as exc:  # noqa: BLE001 - reported, the lease goes back, retried at the next poll
                await self.lease.release()
                self.state = f"down: {exc}"[:200]
                if str(exc) != self._last_error:
                    log.error("singleton did not start", extra={"singleton": self.name, "error": str(exc)[:300]})
                self._last_error = str(exc)
                return
            self.active, self.state, self._last_error = True, "active", ""
            log.info("singleton started", extra={"singleton": self.name, "generation": self.lease.fence.generation})
        except Exception as exc:  # noqa: BLE001 - the database may be away; the next poll tries again
            log.warning("lease poll failed", extra={"singleton": self.name, "error": f"{type(exc).__name__}: {exc}"})

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.check_every if self.active else self.poll)
            await self.step()

    async def _deactivate(self, why: str) -> None:
        self.active, self.state = False, "standby"
        try:
            await self._stop()
        except Exception:
            log.exception("singleton did not stop cleanly", extra={"singleton": self.name})
        log.warning("singleton stopped", extra={"singleton": self.name, "reason": why})

    async def close(self) -> None:
        """Stop polling, stop the component if it runs here and give the lease back."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.active:
            await self._deactivate("shutdown")
        await self.lease.close()
