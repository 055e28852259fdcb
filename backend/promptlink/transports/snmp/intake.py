"""The trap intake as one unit: receiver + trap journal + alarm worker (in the backend or alone)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from promptlink.chat.gateway import Emitter, room_of
from promptlink.infra import metrics
from promptlink.infra.clock import Clock
from promptlink.infra.settings import Settings
from promptlink.models import Message
from promptlink.services.alarm_notices import NoticeSender
from promptlink.services.trap_rules import RulesFile
from promptlink.transports.snmp.alarm_worker import AlarmWorker
from promptlink.transports.snmp.journal import TrapJournal, journal_dir
from promptlink.transports.snmp.metrics import TrapCollector, TrapCounters
from promptlink.transports.snmp.receiver import TrapReceiver

log = logging.getLogger(__name__)


def correlation_overrides(settings: Settings) -> dict[str, Any]:
    """Correlation values the environment sets over the rules file's (None: the file's)."""
    return {
        "device_tickets": settings.snmp_device_tickets,
        "device_ticket_window_minutes": settings.snmp_device_ticket_window_minutes,
    }


def user_customers(settings: Settings) -> dict[str, str]:
    """v3 users bound to one customer (`"customer": "CODE"` in PROMPTLINK_SNMP_V3_USERS)."""
    return {u["user"]: u["customer"] for u in settings.snmp_v3_users or [] if u.get("customer")}


@dataclass
class TrapIntake:
    receiver: TrapReceiver
    journal: TrapJournal
    worker: AlarmWorker
    counters: TrapCounters
    rules: RulesFile
    task: asyncio.Task[None]
    unregister: Callable[[], None]  # takes the counters off this process's metrics
    notices: NoticeSender | None = None
    notices_task: asyncio.Task[None] | None = None

    @classmethod
    def start(
        cls,
        *,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        emitter: Emitter | None,
        clock: Clock,
    ) -> TrapIntake:
        """Bind the receiver and start the worker (inside the running event loop)."""
        counters = TrapCounters()
        journal = TrapJournal(
            journal_dir(settings.var_dir, settings.snmp_journal_dir),
            max_bytes=settings.snmp_journal_max_bytes,
            commit_interval=settings.snmp_journal_commit_ms / 1000,
        )
        rules = RulesFile(settings.snmp_rules_path, correlation_overrides=correlation_overrides(settings))
        receiver = TrapReceiver(
            host=settings.snmp_host,
            port=settings.snmp_port,
            communities=list(settings.snmp_communities or []),
            v3_users=list(settings.snmp_v3_users or []),
            journal=journal,
            counters=counters,
            rcvbuf_bytes=settings.snmp_rcvbuf_bytes,
            fast_path=settings.snmp_fast_path,
            min_security_level=settings.snmp_min_security_level,
            allow_communities=bool(settings.snmp_allow_communities),
            trusted_relays=list(settings.snmp_trusted_relays),
        )
        worker = AlarmWorker(
            sessions=sessions,
            journal=journal,
            counters=counters,
            rules=rules,
            emitter=emitter,
            clock=clock,
            device_rate=settings.snmp_device_rate,
            device_burst=settings.snmp_device_burst,
            user_customers=user_customers(settings),
        )
        try:
            receiver.start()
        except OSError:
            journal.release_lock()
            raise
        journal.start()
        task = asyncio.create_task(worker.run())
        unregister = metrics.register(TrapCollector(counters, lambda: worker.in_flight))
        # The customers' notices of alarm waves (services/alarm_notices.py), sent when due.
        notices = NoticeSender(sessions=sessions, clock=clock, emit=_emitting(emitter))
        notices_task = asyncio.create_task(notices.run())
        return cls(receiver, journal, worker, counters, rules, task, unregister, notices, notices_task)

    async def close(self) -> None:
        self.unregister()
        self.receiver.close()
        tasks = [t for t in (self.task, self.notices_task) if t is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.journal.close()  # the last group commit: processed after the next start


def _emitting(emitter: Emitter | None) -> Callable[[Message], Awaitable[None]] | None:
    if emitter is None:
        return None

    async def emit(message: Message) -> None:
        await emitter.emit("message", message.to_event(), room=room_of(message.conversation_id), namespace="/chat")

    return emit
