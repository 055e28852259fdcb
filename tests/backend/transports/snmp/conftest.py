"""An in-process trap intake (real pysnmp receiver on a free UDP port, real database)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio
from promptlink.infra.clock import SystemClock
from promptlink.infra.settings import Settings
from promptlink.models import AlarmNotice
from promptlink.transports.snmp.intake import TrapIntake
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class RoomLog:
    """Records what would go to socket.io rooms (the socket path itself: test_trap_to_chat.py)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any, str | None]] = []

    async def emit(self, event: str, data: Any = None, **kwargs: Any) -> None:
        self.events.append((event, data, kwargs.get("room")))


async def settle(intake: TrapIntake, *, received: int, timeout: float = 15) -> None:
    """Wait until `received` traps were accepted and every one is processed or dropped."""
    deadline = asyncio.get_running_loop().time() + timeout
    c = intake.counters
    while asyncio.get_running_loop().time() < deadline:
        done = c.processed + sum(v for k, v in c.dropped.items() if k != "malformed")  # malformed: not a trap
        if c.total_received() >= received and done >= c.total_received() and intake.worker.in_flight == 0:
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"not settled: {c.snapshot()} in flight {intake.worker.in_flight}")


async def notices_sent(intake: TrapIntake, *, timeout: float = 15) -> None:
    """Wait until the intake has sent every customer notice (they go a quiet time after a wave)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        async with intake.worker.sessions() as session:
            pending = await session.scalar(
                select(func.count()).select_from(AlarmNotice).where(AlarmNotice.state == "pending")
            )
        if not pending:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("alarm notices still pending")


@pytest_asyncio.fixture
async def intake(seeded: async_sessionmaker[AsyncSession], tmp_path: Path) -> AsyncIterator[tuple[TrapIntake, RoomLog]]:
    settings = Settings(demo=True, var_dir=tmp_path, snmp_port=0)
    rooms = RoomLog()
    running = TrapIntake.start(settings=settings, sessions=seeded, emitter=rooms, clock=SystemClock())
    yield running, rooms
    await running.close()


@pytest_asyncio.fixture
async def intake_with(
    seeded: async_sessionmaker[AsyncSession], tmp_path: Path
) -> AsyncIterator[Callable[..., tuple[TrapIntake, RoomLog]]]:
    """Start an intake with settings of the test's own (`snmp_trusted_relays=[...]`, ...)."""
    started: list[TrapIntake] = []

    def start(**overrides: Any) -> tuple[TrapIntake, RoomLog]:
        settings = Settings(demo=True, var_dir=tmp_path, snmp_port=0, **overrides)
        rooms = RoomLog()
        started.append(TrapIntake.start(settings=settings, sessions=seeded, emitter=rooms, clock=SystemClock()))
        return started[-1], rooms

    yield start
    for running in started:
        await running.close()
