"""The durable hand-off: a burst of new alarms loses nothing, and a SIGKILL after traps were journaled
loses nothing and applies nothing twice (real receiver, real journal files, real database)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from promptlink.infra.clock import SystemClock
from promptlink.infra.settings import Settings
from promptlink.models import Alarm, Ticket
from promptlink.transports.snmp.intake import TrapIntake
from promptlink.transports.snmp.journal import HEADER, JournalLocked, TrapJournal, _records
from pysnmp.proto.rfc1902 import Integer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from testkit.traps import IF_INDEX, LINK_DOWN, v2c_packet

from .conftest import RoomLog, settle

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ROOT = Path(__file__).resolve().parents[4]
DEVICES = ("127.0.0.21", "127.0.0.22", "127.0.0.31")  # two of Cable Andina's devices, one of another customer
CHILD = """
import asyncio, sys
from pathlib import Path
from promptlink.infra.clock import SystemClock
from promptlink.infra.db import create_engine, create_sessionmaker
from promptlink.infra.settings import Settings
from promptlink.transports.snmp.intake import TrapIntake

async def main():
    settings = Settings(demo=True, var_dir=Path(sys.argv[2]), snmp_port=0, database_url=sys.argv[1])
    engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(engine)
    intake = TrapIntake.start(settings=settings, sessions=sessions, emitter=None, clock=SystemClock())
    print(intake.receiver.port, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def burst(port: int, distinct_per_device: int, repeats: int) -> int:
    """`distinct_per_device` linkDown interfaces on each demo device, each sent `repeats` times, at once."""
    sent = 0
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in DEVICES]
    for sock, address in zip(socks, DEVICES, strict=True):
        sock.bind((address, 0))
    try:
        for round_ in range(repeats):
            for index in range(1, distinct_per_device + 1):
                for sock in socks:
                    packet = v2c_packet(
                        "public", LINK_DOWN, [(f"{IF_INDEX}.{index}", Integer(index))], request_id=round_ * 1000 + index
                    )
                    sock.sendto(packet, ("127.0.0.1", port))
                    sent += 1
    finally:
        for sock in socks:
            sock.close()
    return sent


async def alarm_books(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int, int, int]:
    """(alarms, distinct keys, sum of trap counts, snmp tickets)."""
    async with sessions() as session:
        alarms = int(await session.scalar(select(func.count(Alarm.id))) or 0)
        keys = int(await session.scalar(select(func.count(func.distinct(Alarm.key)))) or 0)
        traps = int(await session.scalar(select(func.coalesce(func.sum(Alarm.count), 0))) or 0)
        tickets = int(await session.scalar(select(func.count(Ticket.id)).where(Ticket.channel == "snmp")) or 0)
    return alarms, keys, traps, tickets


@SQLITE
async def test_a_burst_of_distinct_alarms_all_become_alarms(intake: tuple[TrapIntake, RoomLog]) -> None:
    running, _rooms = intake
    sent = await asyncio.to_thread(burst, running.receiver.port, 67, 2)  # 201 new alarms, each trap twice
    await settle(running, received=sent, timeout=120)
    c = running.counters
    assert c.total_received() == sent == 402
    assert c.processed == sent and not {k: v for k, v in c.dropped.items() if v}
    alarms, keys, traps, tickets = await alarm_books(running.worker.sessions)
    assert (alarms, keys, traps) == (201, 201, 402)
    # One wave per customer (docs/snmp.md, Correlation): Cable Andina's two devices share one ticket.
    assert c.alarms_opened == 201 and tickets == c.tickets_created == 2
    async with running.worker.sessions() as session:
        unticketed = await session.scalar(select(func.count(Alarm.id)).where(Alarm.ticket_id.is_(None)))
    assert unticketed == 0  # each one opened a ticket or joined its device's open one
    assert running.journal.durable_seq == sent  # every accepted trap went through the journal


@SQLITE
async def test_traps_journaled_before_a_sigkill_are_processed_once_after_restart(
    seeded: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    var_dir = tmp_path / "var"
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        database_url,
        str(var_dir),
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT / "backend")},
    )
    try:
        assert child.stdout is not None
        port = int(await asyncio.wait_for(child.stdout.readline(), 60))
        sent = await asyncio.to_thread(burst, port, 50, 2)  # 150 new alarms (tickets, notices), then repeats
        segment_dir = var_dir / "snmp" / "journal"
        deadline = asyncio.get_running_loop().time() + 30
        journaled = 0
        while journaled < sent and asyncio.get_running_loop().time() < deadline:
            journaled = sum(len(_records(p.read_bytes())[0]) for p in segment_dir.glob("*.seg"))
            await asyncio.sleep(0.01)
        assert journaled == sent
    finally:
        child.send_signal(signal.SIGKILL)  # no clean shutdown: whatever the worker was doing is cut
        await asyncio.wait_for(child.wait(), 10)
    before = await alarm_books(seeded)
    assert before[2] < sent  # the worker had not finished: the restart has work to do

    settings = Settings(demo=True, var_dir=var_dir, snmp_port=0)
    restarted = TrapIntake.start(settings=settings, sessions=seeded, emitter=RoomLog(), clock=SystemClock())
    try:
        await asyncio.wait_for(restarted.worker.loaded.wait(), 30)
        for _ in range(2400):  # up to 2 minutes on a loaded machine
            if not restarted.worker.in_flight:
                break
            await asyncio.sleep(0.05)
        assert restarted.worker.in_flight == 0
        alarms, keys, traps, tickets = await alarm_books(seeded)
        # Every journaled trap counted exactly once: none lost, none applied twice (no second alarm or ticket).
        assert (alarms, keys, traps) == (150, 150, sent)
        assert restarted.counters.processed == sent - before[2]
        async with seeded() as session:
            ticket_ids = list(await session.scalars(select(Alarm.ticket_id)))
            snmp_tickets = list(await session.scalars(select(Ticket.id).where(Ticket.channel == "snmp")))
        assert None not in ticket_ids and set(ticket_ids) == set(snmp_tickets) and tickets == len(snmp_tickets)
    finally:
        await restarted.close()

    # A second restart finds nothing to do: the committed position covers everything.
    again = TrapIntake.start(settings=settings, sessions=seeded, emitter=RoomLog(), clock=SystemClock())
    try:
        await asyncio.wait_for(again.worker.loaded.wait(), 30)
        await asyncio.sleep(0.3)
        assert again.worker.in_flight == 0 and again.counters.processed == 0
        assert await alarm_books(seeded) == (alarms, keys, traps, tickets)
    finally:
        await again.close()


async def test_the_journal_is_bounded_and_owned_by_one_process(tmp_path: Path) -> None:
    journal = TrapJournal(tmp_path / "j", max_bytes=1 << 20)
    from datetime import UTC, datetime

    from promptlink.transports.snmp.receiver import TrapEvent

    event = TrapEvent("v2c", "127.0.0.21", None, LINK_DOWN, {"x": "y" * 400}, datetime.now(UTC))
    taken = 0
    while journal.append(event):
        taken += 1
    record = HEADER.size + len(b'["v2c","127.0.0.21",null,"' + LINK_DOWN.encode()) + 400
    assert taken > 0 and journal.used_bytes <= 1 << 20 and taken * record <= 1 << 20
    with pytest.raises(JournalLocked):
        TrapJournal(tmp_path / "j", max_bytes=1 << 20)
    await journal.close()
    reopened = TrapJournal(tmp_path / "j", max_bytes=1 << 20)
    assert reopened.next_seq == taken + 1 and reopened.read(10)[0].varbinds == {"x": "y" * 400}
    await reopened.close()


async def test_an_idle_journal_does_not_wake_and_a_trap_is_committed_within_the_interval(tmp_path: Path) -> None:
    """The group commit waits for a trap to write: nothing to do is no wake-up (it ran 100 times a
    second on the backend's event loop), and a trap still becomes durable one interval later."""
    from datetime import UTC, datetime

    from promptlink.transports.snmp.receiver import TrapEvent

    journal = TrapJournal(tmp_path / "j", max_bytes=1 << 20, commit_interval=0.01)
    flushes = 0
    flush = journal.flush

    async def counted() -> None:
        nonlocal flushes
        flushes += 1
        await flush()

    journal.flush = counted  # type: ignore[method-assign]
    journal.start()
    await asyncio.sleep(0.3)
    assert flushes == 0  # 30 intervals with nothing to write
    assert journal.append(TrapEvent("v2c", "127.0.0.21", None, LINK_DOWN, {}, datetime.now(UTC)))
    await asyncio.wait_for(journal.readable.wait(), timeout=2)
    assert journal.durable_seq == 1 and flushes == 1
    await asyncio.sleep(0.2)
    assert flushes == 1  # quiet again
    await journal.close()
    reopened = TrapJournal(tmp_path / "j", max_bytes=1 << 20)
    assert reopened.read(10)[0].source == "127.0.0.21"
    await reopened.close()
