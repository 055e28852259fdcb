"""The alarm worker: reads the trap journal in batches, folds repeats, writes alarms.

Reception never waits on it: the receiver appends to the journal (journal.py) and the worker
reads what is durable at its own pace. Exactly once: every transaction that applies traps also
stores, in `snmp_journal_cursors`, which journal records are done (a low-water mark plus the
done records above it: deferred signals and dropped traps leave holes). After a crash the worker
reads the journal again from the low-water mark and skips the records marked done, so a record
is applied once whatever the moment of the crash.

Per batch: each trap is matched to its rule and device (in-memory device cache), repeats
of one key fold into one signal, and all signals are applied in one transaction. Chat
messages are emitted after the commit, to room `conv:<id>` of namespace `/chat` —
through the backend's socket.io server, or through the Redis manager when the receiver
runs as its own process.

Per-device rate limit: a token bucket per device (or source address) spends one token
per signal that may open an alarm (a key not known open), never per trap: repeats and
clears of an open alarm always fold. A device out of tokens has its signals deferred
(and further repeats folded into them) until tokens come back; beyond `burst` distinct
deferred keys, traps are dropped with the reason `rate_limited`.

A v3 user bound to a customer (`user_customers`) speaks only for that customer's devices: its
trap from another customer's device address is dropped (`device_not_bound`) and logged.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from time import monotonic
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from promptlink.chat.gateway import Emitter, room_of
from promptlink.infra.clock import Clock
from promptlink.infra.db import transaction
from promptlink.models import Customer, Device, SnmpJournalCursor
from promptlink.services.alarms import AlarmSignal, DeviceRef, Outcome, apply_signal, latest_alarms
from promptlink.services.trap_rules import RulesFile
from promptlink.transports.snmp.journal import TrapJournal
from promptlink.transports.snmp.metrics import TrapCounters
from promptlink.transports.snmp.receiver import TrapEvent

log = logging.getLogger(__name__)

BATCH_MAX = 5000
# The worker lets traps gather this long after the first of a batch: at storm rates one
# transaction then folds many repeats (bounded write rate), at a trickle it adds 50 ms.
BATCH_WINDOW_SECONDS = 0.05
CHUNK_NEW = 10
DEVICE_CACHE_SECONDS = 30.0
DEVICE_MISS_REFRESH_SECONDS = 5.0


@dataclass
class TokenBucket:
    rate: float
    burst: float
    tokens: float
    stamp: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class JournaledSignal(AlarmSignal):
    """A signal and the journal records it folds."""

    seqs: list[int] = field(default_factory=list)


def _ranges(seqs: Iterable[int]) -> list[list[int]]:
    ranges: list[list[int]] = []
    for seq in sorted(seqs):
        if ranges and ranges[-1][1] >= seq - 1:
            ranges[-1][1] = max(ranges[-1][1], seq)
        else:
            ranges.append([seq, seq])
    return ranges


class SeqRanges:
    """Journal sequence numbers as sorted, disjoint [first, last] ranges: a long deferral (a hole
    below) during a storm keeps a few ranges, not millions of numbers."""

    def __init__(self, ranges: Iterable[Iterable[int]] = ()) -> None:
        self.ranges = [[int(first), int(last)] for first, last in ranges]
        self.size = sum(last - first + 1 for first, last in self.ranges)

    def __contains__(self, seq: int) -> bool:
        index = bisect_right(self.ranges, seq, key=lambda r: r[0]) - 1
        return index >= 0 and self.ranges[index][1] >= seq

    def __len__(self) -> int:
        return self.size

    def union(self, seqs: Iterable[int]) -> SeqRanges:
        merged: list[list[int]] = []
        for first, last in heapq.merge(self.ranges, _ranges(seqs)):
            if merged and merged[-1][1] >= first - 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        return SeqRanges(merged)

    def advance(self, low: int) -> tuple[int, SeqRanges]:
        """The new low-water mark (every seq below it done) and the ranges left above it."""
        index = 0
        while index < len(self.ranges) and self.ranges[index][0] <= low:
            low = max(low, self.ranges[index][1] + 1)
            index += 1
        return low, SeqRanges(self.ranges[index:])


class AlarmWorker:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        journal: TrapJournal,
        counters: TrapCounters,
        rules: RulesFile,
        emitter: Emitter | None,
        clock: Clock,
        device_rate: float = 20.0,
        device_burst: int = 100,
        namespace: str = "/chat",
        user_customers: dict[str, str] | None = None,
    ) -> None:
        self.sessions, self.journal, self.counters, self.rules = sessions, journal, counters, rules
        self.emitter, self.clock, self.namespace = emitter, clock, namespace
        self.device_rate, self.device_burst = device_rate, device_burst
        self.user_customers = dict(user_customers or {})  # v3 user -> the customer code it speaks for
        self._devices: dict[str, DeviceRef] = {}
        self._device_customers: dict[int, str] = {}  # device id -> customer code
        self._devices_at = -1e9
        self._buckets: dict[str, TokenBucket] = {}
        self._deferred: dict[str, list[JournaledSignal]] = {}  # by key, in order
        self._deferred_traps = 0
        self._open_keys: set[str] = set()  # keys of alarms this worker saw open: folding them is free
        # The journal records done: all below `_low`, and `_done` above it (committed in the database);
        # `_settled` are done in memory (dropped traps) and go to the database with the next commit.
        self._low = journal.first_seq
        self._done = SeqRanges()
        self._settled: set[int] = set()
        self._next_position: tuple[int, SeqRanges, set[int]] = (self._low, SeqRanges(), set())
        self.loaded = asyncio.Event()
        self.idle = asyncio.Event()

    @property
    def in_flight(self) -> int:
        """Journaled (or buffered) traps not yet processed or dropped."""
        return max(0, self.journal.next_seq - self._low - len(self._done) - len(self._settled))

    async def load_position(self) -> None:
        """Where the last run stopped: read the journal again from there."""
        async with self.sessions() as session:
            row = await session.get(SnmpJournalCursor, self.journal.journal_id)
        if row is not None:
            self._low = max(row.low_seq, self.journal.first_seq)
            self._low, self._done = SeqRanges(json.loads(row.done)).advance(self._low)
        self.journal.seek(self._low)
        self.loaded.set()
        if row is not None and self.journal.next_seq > self._low:
            log.info(
                "snmp journal: resuming after a restart",
                extra={"from_seq": self._low, "to_seq": self.journal.next_seq - 1, "done_above": len(self._done)},
            )

    async def run(self) -> None:
        """Process batches until cancelled; an error drops the batch (counted), never the worker."""
        while True:
            try:
                await self.load_position()
                break
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("snmp journal position not readable; retrying")
                await asyncio.sleep(1.0)
        while True:
            if not self.journal.unread:
                self.idle.set() if not self._deferred and not self.in_flight else self.idle.clear()
                self.journal.readable.clear()
                try:
                    await asyncio.wait_for(self.journal.readable.wait(), timeout=0.25 if self._deferred else 1.0)
                except TimeoutError:
                    pass
            self.idle.clear()
            if self.journal.unread:
                await asyncio.sleep(BATCH_WINDOW_SECONDS)
            batch = [
                event
                for event in self.journal.read(BATCH_MAX)
                if event.seq >= self._low and event.seq not in self._done
            ]
            if not batch and not self._deferred and not self._settled:
                continue
            try:
                await self.process(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("alarm batch failed", extra={"traps": len(batch)})
                self.counters.dropped["error"] += len(batch)
                self._settled.update(event.seq for event in batch if event.seq not in self._done)

    def forget_devices(self) -> None:
        """A device changed (e.g. Level 1 assigned an address): read them again for the next batch."""
        self._devices_at = -1e9

    async def _device_map(self, addresses: set[str]) -> dict[str, DeviceRef]:
        age = monotonic() - self._devices_at
        missing = any(a not in self._devices for a in addresses)
        if age > DEVICE_CACHE_SECONDS or (missing and age > DEVICE_MISS_REFRESH_SECONDS):
            async with self.sessions() as session:
                rows = (
                    await session.execute(
                        select(Device.id, Device.customer_id, Device.name, Device.mgmt_address, Customer.code).join(
                            Customer, Customer.id == Device.customer_id
                        )
                    )
                ).all()
                self._devices = {addr: DeviceRef(i, c, n, addr) for i, c, n, addr, _ in rows}
                self._device_customers = {i: code for i, _, _, _, code in rows}
            self._devices_at = monotonic()
        return self._devices

    def _signals(self, batch: list[TrapEvent], devices: dict[str, DeviceRef]) -> list[JournaledSignal]:
        """Match and fold: one signal per run of the same key and meaning, in arrival order per key."""
        rules = self.rules.current()
        by_key: dict[str, list[JournaledSignal]] = {}
        refused: Counter[tuple[str, str]] = Counter()
        for event in batch:
            match = rules.match(event.trap_oid, event.varbinds)
            if match is None:
                self.counters.dropped["no_rule"] += event.count
                self._settled.add(event.seq)
                continue
            # The receiver set an agent address only for a trusted relay's trap (about the agent, not
            # the relay); otherwise the device is the UDP source.
            device = devices.get(event.device_address)
            bound = self.user_customers.get(event.user) if event.user else None
            if bound is not None and device is not None and self._device_customers.get(device.id) != bound:
                self.counters.dropped["device_not_bound"] += event.count
                self._settled.add(event.seq)
                refused[(event.user or "", event.device_address)] += event.count
                continue
            who = f"device:{device.id}" if device else f"address:{event.device_address}"
            key = f"{who}|{match.key_suffix}"
            runs = by_key.setdefault(key, [])
            if runs and runs[-1].match.clears == match.clears:
                runs[-1].count += event.count
                runs[-1].last_at = event.received_at
                runs[-1].seqs.append(event.seq)
                continue
            runs.append(
                JournaledSignal(
                    key=key,
                    match=match,
                    device=device,
                    source=device.address if device else event.device_address,
                    trap_oid=event.trap_oid,
                    varbinds=event.varbinds,
                    first_at=event.received_at,
                    last_at=event.received_at,
                    count=event.count,
                    seqs=[event.seq],
                )
            )
        for (user, address), count in refused.items():
            log.warning(
                f"snmp v3 user {user} is not bound to the customer of the device at {address}: traps dropped",
                extra={"user": user, "address": address, "traps": count},
            )
        return [signal for runs in by_key.values() for signal in runs]

    def _admit(self, signals: list[JournaledSignal]) -> list[JournaledSignal]:
        """Apply the per-device token buckets; deferred signals are retried on later rounds."""
        now = monotonic()
        admitted: list[JournaledSignal] = []
        for signal in signals:
            if signal.key in self._open_keys and signal.key not in self._deferred:
                admitted.append(signal)  # a repeat or the clear of an open alarm: no token
                continue
            deferred = self._deferred.get(signal.key)
            if deferred is not None:
                if deferred[-1].match.clears == signal.match.clears:
                    deferred[-1].count += signal.count
                    deferred[-1].last_at = signal.last_at
                    deferred[-1].seqs.extend(signal.seqs)
                else:
                    deferred.append(signal)
                self._deferred_traps += signal.count
                continue
            self._deferred[signal.key] = [signal]
            self._deferred_traps += signal.count
        per_source: dict[str, int] = {}
        for key in list(self._deferred):
            runs = self._deferred[key]
            source = key.split("|", 1)[0]
            bucket = self._buckets.get(source)
            if bucket is None:
                bucket = self._buckets[source] = TokenBucket(
                    self.device_rate, self.device_burst, self.device_burst, now
                )
            if bucket.take(now):
                admitted.extend(runs)
                del self._deferred[key]
                self._deferred_traps -= sum(r.count for r in runs)
                continue
            per_source[source] = per_source.get(source, 0) + 1
            if per_source[source] > self.device_burst:
                dropped = sum(r.count for r in runs)
                self.counters.dropped["rate_limited"] += dropped
                self._settled.update(seq for r in runs for seq in r.seqs)
                self._deferred_traps -= dropped
                del self._deferred[key]
        return admitted

    async def process(self, batch: list[TrapEvent]) -> Outcome:
        """Apply a batch; returns what it did (all chunks together)."""
        devices = await self._device_map({e.device_address for e in batch} | {e.source for e in batch})
        admitted = self._admit(self._signals(batch, devices))
        total = Outcome()
        for chunk in self._chunks(admitted):
            try:
                outcome = await self._apply_chunk(chunk, traps=len(batch))
            except Exception:  # counted as dropped "error" in _apply_chunk; the other chunks go on
                log.exception("alarm chunk failed", extra={"signals": len(chunk)})
                continue
            total.messages += outcome.messages
            total.opened += outcome.opened
            total.cleared += outcome.cleared
            total.tickets += outcome.tickets
            total.folded += outcome.folded
            total.attached += outcome.attached
        if self._settled:  # only drops this round: their records are done too
            async with transaction(self.sessions) as session:
                await self._save_position(session, set())
            self._commit_position()
        self.journal.release(self._low)
        return total

    async def _save_position(self, session: AsyncSession, seqs: set[int]) -> None:
        """In the transaction that applies `seqs`: they, and the settled drops, are done."""
        low, done = self._done.union(self._settled | seqs).advance(self._low)
        self._next_position = (low, done, set(self._settled))
        row = await session.get(SnmpJournalCursor, self.journal.journal_id)
        text = json.dumps(done.ranges, separators=(",", ":"))
        if row is None:
            session.add(SnmpJournalCursor(journal_id=self.journal.journal_id, low_seq=low, done=text))
        else:
            row.low_seq, row.done = low, text

    def _commit_position(self) -> None:
        low, done, settled = self._next_position
        self._low, self._done = low, done
        self._settled -= settled

    def _chunks(self, admitted: list[JournaledSignal]) -> list[list[JournaledSignal]]:
        """Transactions of at most CHUNK_NEW signals that may open an alarm (plus any folds).

        Opening an alarm (ticket, notice, e-mail) costs ~25 statements: in a storm of new
        alarms, the first notices go out after a few of them instead of after the whole batch.
        Signals of one key stay in order (chunks run one after the other).
        """
        chunks: list[list[JournaledSignal]] = [[]]
        fresh = 0
        for signal in admitted:
            if signal.key not in self._open_keys:
                if fresh == CHUNK_NEW:
                    chunks.append([])
                    fresh = 0
                fresh += 1
            chunks[-1].append(signal)
        return [c for c in chunks if c]

    async def _apply_chunk(self, admitted: list[JournaledSignal], *, traps: int) -> Outcome:
        outcome = Outcome()
        now = self.clock.now()
        started = monotonic()
        try:
            async with transaction(self.sessions) as session:
                correlation = self.rules.current().correlation
                states: dict[str, bool] = {}
                latest = await latest_alarms(session=session, keys=list({s.key for s in admitted}))
                for signal in admitted:
                    alarm = await apply_signal(
                        session=session,
                        signal=signal,
                        correlation=correlation,
                        now=now,
                        outcome=outcome,
                        latest=latest,
                    )
                    states[signal.key] = alarm is not None and alarm.state == "open"
                await self._save_position(session, {seq for s in admitted for seq in s.seqs})
        except Exception:
            self.counters.dropped["error"] += sum(s.count for s in admitted)
            self._settled.update(seq for s in admitted for seq in s.seqs)
            raise
        self._commit_position()
        log.debug(
            "alarm batch",
            extra={
                "traps": traps,
                "signals": len(admitted),
                "opened": outcome.opened,
                "seconds": round(monotonic() - started, 3),
                "deferred": self._deferred_traps,
            },
        )
        for key, is_open in states.items():
            (self._open_keys.add if is_open else self._open_keys.discard)(key)
        self.counters.processed += sum(s.count for s in admitted)
        self.counters.folded += outcome.folded
        self.counters.alarms_opened += outcome.opened
        self.counters.alarms_cleared += outcome.cleared
        self.counters.tickets_created += outcome.tickets
        self.counters.alarms_attached += outcome.attached
        await self._emit(outcome)
        return outcome

    async def _emit(self, outcome: Outcome) -> None:
        if self.emitter is None:
            return
        for message in outcome.messages:
            try:
                await self.emitter.emit(
                    "message", message.to_event(), room=room_of(message.conversation_id), namespace=self.namespace
                )
            except Exception:  # noqa: BLE001 - stored already; the customer sees it on resume
                log.warning("proactive message not emitted", extra={"conversation_id": message.conversation_id})

    def stats(self) -> dict[str, Any]:
        return {**self.counters.snapshot(), "in_flight": self.in_flight}
