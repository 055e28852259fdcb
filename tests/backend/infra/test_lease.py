"""Leases: one holder per name on a shared database, takeover when the holder's connection (or
process) is gone, a fencing generation that grows, and a sweep across a takeover that reminds once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import textwrap
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from promptlink.background import sweep_once
from promptlink.infra.clock import ManualClock
from promptlink.infra.db import create_engine, create_sessionmaker, transaction
from promptlink.infra.lease import Fence, Lease, LeaseLost, Singleton, lease_records
from promptlink.infra.settings import Settings
from promptlink.models import Customer, OutboxItem, Ticket, TicketEvent
from promptlink.services import tickets as svc
from promptlink.services.ticket_rules import IncidentFacts
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from testkit.databases import PG_ADMIN_URL, pg_admin, pg_url
from testkit.processes import BACKEND_PY, ROOT

POLL = 0.2
START = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


async def _until(probe: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def _terminate_connection(sessions: async_sessionmaker[AsyncSession], lease: Lease) -> None:
    """Cut the holder's lease connection from the server side, as a lost network or server restart would."""
    assert lease._conn is not None
    pid = await lease._conn.scalar(text("SELECT pg_backend_pid()"))
    async with sessions() as session:
        assert await session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def _recording(
    log: list[tuple[str, ...]], tag: str
) -> tuple[Callable[[Fence], Awaitable[None]], Callable[[], Awaitable[None]]]:
    async def start(fence: Fence) -> None:
        log.append((tag, "start", str(fence.generation)))

    async def stop() -> None:
        log.append((tag, "stop"))

    return start, stop


async def test_one_holder_per_name_and_a_new_generation_at_each_acquisition(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    a = Lease("sweeper", sessions=sessions, var_dir=tmp_path, holder="host-a:1")
    b = Lease("sweeper", sessions=sessions, var_dir=tmp_path, holder="host-b:2")
    other = Lease("smtp-intake", sessions=sessions, var_dir=tmp_path, holder="host-b:2")
    try:
        assert await a.try_acquire()
        assert not await b.try_acquire() and b.fence is None
        assert await other.try_acquire()  # another name is another lease
        assert await a.check()
        assert a.fence is not None
        first = a.fence.generation
        records = await lease_records(sessions)
        assert records["sweeper"]["holder"] == "host-a:1" and records["sweeper"]["generation"] == first
        assert records["sweeper"]["acquired_at"].tzinfo is not None

        await a.release()
        assert not await a.check()
        assert await b.try_acquire() and not await a.try_acquire()
        assert b.fence is not None and b.fence.generation == first + 1
        assert (await lease_records(sessions))["sweeper"]["holder"] == "host-b:2"
        # The former holder's fencing token no longer lets a transaction commit.
        with pytest.raises(LeaseLost):
            async with transaction(sessions) as session:
                await Fence("sweeper", first).verify(session)
        async with transaction(sessions) as session:
            await b.fence.verify(session)
    finally:
        for lease in (a, b, other):
            await lease.close()


@pytest.fixture
def postgresql_url(migrated_templates: dict[str, str | None]) -> Iterator[str]:
    """A migrated PostgreSQL database of its own (advisory locks and connections are PostgreSQL's)."""
    template = migrated_templates["postgresql"]
    if template is None:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {migrated_templates['pg_error']}")
    name = f"promptlink_lease_{uuid.uuid4().hex[:12]}"
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield pg_url(name)
    finally:
        asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def test_a_lost_connection_stops_the_holder_before_a_standby_starts(postgresql_url: str, tmp_path: Path) -> None:
    engine = create_engine(postgresql_url)
    sessions = create_sessionmaker(engine)
    log: list[tuple[str, ...]] = []
    one = _recorded(Lease("sweeper", sessions=sessions, var_dir=tmp_path), log, "one")
    two = _recorded(Lease("sweeper", sessions=sessions, var_dir=tmp_path), log, "two")
    try:
        await one.begin()
        await two.begin()
        assert one.active and one.state == "active"
        assert not two.active and two.state == "standby"
        assert one.lease.fence is not None
        old = one.lease.fence
        began = time.monotonic()
        await _terminate_connection(sessions, one.lease)
        await _until(lambda: two.active, "the standby to take over")
        print(f"\ntakeover after the holder's connection was cut: {time.monotonic() - began:.2f} s (poll {POLL} s)")
        assert not one.active and one.state == "standby"
        # The former holder stopped before the new one started; the generation moved on.
        assert log == [
            ("one", "start", str(old.generation)),
            ("one", "stop"),
            ("two", "start", str(old.generation + 1)),
        ]
        # The former holder, a standby now, gets it back when the new one goes away.
        await two.close()
        await _until(lambda: one.active, "the first to take it back")
        assert one.lease.fence is not None and one.lease.fence.generation == old.generation + 2
    finally:
        await one.close()
        await two.close()
        await engine.dispose()


def _recorded(lease: Lease, log: list[tuple[str, ...]], tag: str) -> Singleton:
    """A singleton whose component only records its starts and stops in `log`."""
    start, stop = _recording(log, tag)
    return Singleton(lease, start=start, stop=stop, poll=POLL)


HOLDER_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from promptlink.infra.db import create_engine, create_sessionmaker
    from promptlink.infra.lease import Lease

    async def main():
        engine = create_engine(sys.argv[1])
        lease = Lease(
            "smtp-intake",
            sessions=create_sessionmaker(engine),
            var_dir=Path(sys.argv[2]),
            holder="child",
            idle_timeout=float(sys.argv[3]),
        )
        print("held" if await lease.try_acquire() else "standby", lease.fence and lease.fence.generation, flush=True)
        while await lease.check():  # as a holder does (every poll / 4)
            await asyncio.sleep(0.1)

    asyncio.run(main())
    """
)


def _holder_process(database_url: str, var_dir: Path, idle_timeout: float = 10) -> tuple[subprocess.Popen[str], str]:
    """A process of its own holding lease "smtp-intake" (and checking it, as a holder does); its first line."""
    child = subprocess.Popen(
        [str(BACKEND_PY), "-c", HOLDER_SCRIPT, database_url, str(var_dir), str(idle_timeout)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "backend"), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    return child, child.stdout.readline().strip()


async def test_the_lease_of_a_killed_process_is_free_again(database_url: str, tmp_path: Path) -> None:
    """Two real processes: the kernel (SQLite's flock) or the server (PostgreSQL's session lock)
    releases a SIGKILLed holder's lease; the other one gets it with the next generation."""
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    here = Lease("smtp-intake", sessions=sessions, var_dir=tmp_path, holder="parent")
    child, line = await asyncio.to_thread(_holder_process, database_url, tmp_path)
    try:
        state, generation = line.split()
        assert state == "held", line
        assert not await here.try_acquire()
        if database_url.startswith("sqlite"):
            assert (tmp_path / "run" / "lease-smtp-intake.lock").exists()
        child.send_signal(signal.SIGKILL)
        await asyncio.to_thread(child.wait, 10)
        began = time.monotonic()
        while not await here.try_acquire():
            assert time.monotonic() - began < 10, "the killed holder's lease was not released"
            await asyncio.sleep(0.05)
        assert here.fence is not None and here.fence.generation == int(generation) + 1
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        await here.close()
        await engine.dispose()


async def test_a_frozen_holder_loses_its_lease_after_the_idle_timeout(postgresql_url: str, tmp_path: Path) -> None:
    """A holder that stops answering without losing its connection (SIGSTOP here; a blocked loop in
    life): the server ends its silent session, so the lease is free for the standby."""
    engine = create_engine(postgresql_url)
    here = Lease("smtp-intake", sessions=create_sessionmaker(engine), var_dir=tmp_path, holder="parent")
    child, line = await asyncio.to_thread(_holder_process, postgresql_url, tmp_path, 1.0)
    try:
        state, generation = line.split()
        assert state == "held", line
        await asyncio.sleep(2.5)  # longer than its idle timeout: a live holder keeps its lease
        assert child.poll() is None and not await here.try_acquire()
        child.send_signal(signal.SIGSTOP)
        began = time.monotonic()
        while not await here.try_acquire():
            assert time.monotonic() - began < 15, "the frozen holder kept its lease"
            await asyncio.sleep(0.1)
        print(f"\nlease free after its holder froze: {time.monotonic() - began:.2f} s (idle timeout 1 s)")
        assert here.fence is not None and here.fence.generation == int(generation) + 1
    finally:
        child.kill()
        await asyncio.to_thread(child.wait, 10)
        await here.close()
        await engine.dispose()


async def _due_p1(sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> str:
    """An unassigned P1 (update due two hours after filing), with the clock 29 min before its due time."""
    async with transaction(sessions) as session:
        customer = await session.scalar(select(Customer).where(Customer.code == "CABLEANDINA"))
        assert customer is not None
        draft = svc.TicketDraft(
            channel="phone",
            type="network_outage",
            title="Nodo caído",
            facts=IncidentFacts(production_down=True),
            customer_id=customer.id,
        )
        created = await svc.create_ticket(session=session, draft=draft, author="l3@promptlink.example", now=clock.now())
    clock.advance(timedelta(minutes=91))
    assert created.ticket.number
    return created.ticket.number


async def test_a_sweep_across_a_takeover_reminds_exactly_once(
    seeded: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """Two processes' sweepers on one database with a due P1 reminder: the holder that lost its
    lease cannot commit its sweep (fencing); the new holder's reminds once."""
    clock = ManualClock(START)
    number = await _due_p1(seeded, clock)
    settings = Settings(demo=True, var_dir=tmp_path, database_url="sqlite+aiosqlite://")
    old = Lease("sweeper", sessions=seeded, var_dir=tmp_path, holder="old")
    new = Lease("sweeper", sessions=seeded, var_dir=tmp_path, holder="new")
    try:
        assert await old.try_acquire() and old.fence is not None
        stale = old.fence
        if seeded.kw["bind"].dialect.name == "postgresql":
            await _terminate_connection(seeded, old)  # the server frees the lock; `old` has not noticed yet
        else:
            await old.release()  # a file lock is freed only by its process: release it
        assert await new.try_acquire() and new.fence is not None
        # Both sweep at once: the paused former holder with its stale token, the new holder with its own.
        results = await asyncio.gather(
            sweep_once(sessions=seeded, settings=settings, clock=clock, fence=stale),
            sweep_once(sessions=seeded, settings=settings, clock=clock, fence=new.fence),
            return_exceptions=True,
        )
        assert isinstance(results[0], LeaseLost), results
        assert not isinstance(results[1], BaseException), results
        # On PostgreSQL the new holder may have skipped the ticket the old one had locked: its next sweep
        # takes it. Across its sweeps the reminder is made once; the former holder's never commits.
        later = await sweep_once(sessions=seeded, settings=settings, clock=clock, fence=new.fence)
        assert results[1].reminded + later.reminded == [number]
        with pytest.raises(LeaseLost):
            await sweep_once(sessions=seeded, settings=settings, clock=clock, fence=stale)
        async with seeded() as session:
            ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
            assert ticket is not None
            reminders = await session.scalar(
                select(func.count()).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "reminder")
            )
            mails = list(
                await session.scalars(
                    select(OutboxItem.recipient).where(
                        OutboxItem.ticket_id == ticket.id, OutboxItem.subject.contains("pendiente")
                    )
                )
            )
        assert reminders == 1
        assert mails and len(mails) == len(set(mails))  # one reminder per recipient, no double sends
        assert "l3@promptlink.example" in mails
    finally:
        await old.close()
        await new.close()
