"""Alarms from network equipment: correlation of the SNMP worker's signals, and the alarm lists.

The SNMP worker hands over `AlarmSignal`s (repeats already folded in memory); this
module owns what they mean: a new alarm opens a ticket through `create_ticket`
(channel `snmp`) and tells the customer first; a repeat inside the window adds to the
count; the clearing trap resolves the ticket and tells the customer; N down/up cycles
inside M minutes make one ticket marked as intermittent; many of a customer's devices
down raises the priority. Alarms of one device and rule arriving within
`correlation.device_group_seconds` of each other (many interfaces going down) share one
ticket that lists them; so do alarms of one rule on several of a customer's devices within
`customer_group_seconds` (raised to P1 by the escalation when most of its devices are down).
A device opens at most `correlation.device_tickets` tickets per `device_ticket_window_minutes`:
past that, a new alarm of that device is attached to its open SNMP ticket (an internal entry,
no new notice), so distinct keys cannot flood tickets.
The customer is told once per wave: new alarms, and alarms that came back after clearing, join
the customer's pending notice (`alarm_notices.queue_notice`), sent a few seconds after the wave's
latest alarm.

What an alarm does to tickets is `services.alarm_tickets`; what it tells the customer,
`services.alarm_notices`; Level 1 assigning unknown equipment, `services.alarm_assignment`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Alarm, Message, Ticket
from promptlink.services.alarm_notices import AUTHOR, notice_pending, queue_notice
from promptlink.services.alarm_tickets import (
    alarm_draft,
    attach_over_bound,
    escalate_others,
    escalation,
    group_ticket,
    join_group,
    open_ticket,
    reopen_ticket,
    resolve_on_clear,
)
from promptlink.services.trap_rules import Correlation, Match


@dataclass(frozen=True)
class DeviceRef:
    id: int
    customer_id: int
    name: str
    address: str


@dataclass
class AlarmSignal:
    """One or more identical traps (same key, same meaning) in arrival order."""

    key: str
    match: Match
    device: DeviceRef | None
    source: str
    trap_oid: str
    varbinds: dict[str, str]
    first_at: datetime
    last_at: datetime
    count: int = 1


@dataclass
class Outcome:
    messages: list[Message] = field(default_factory=list)
    opened: int = 0
    cleared: int = 0
    tickets: int = 0
    folded: int = 0
    attached: int = 0  # new alarms attached to their device's open ticket (the ticket bound was reached)
    grouped: int = 0  # new alarms that joined the ticket of their wave (same device, or the customer's)


async def _latest(session: AsyncSession, key: str) -> Alarm | None:
    alarm: Alarm | None = await session.scalar(select(Alarm).where(Alarm.key == key).order_by(Alarm.id.desc()).limit(1))
    return alarm


async def latest_alarms(*, session: AsyncSession, keys: list[str]) -> dict[str, Alarm]:
    """The newest alarm of each key (one query for a whole batch)."""
    latest: dict[str, Alarm] = {}
    for i in range(0, len(keys), 500):
        rows = await session.scalars(select(Alarm).where(Alarm.key.in_(keys[i : i + 500])).order_by(Alarm.id))
        latest.update((alarm.key, alarm) for alarm in rows)
    return latest


async def apply_signal(
    *,
    session: AsyncSession,
    signal: AlarmSignal,
    correlation: Correlation,
    now: datetime,
    outcome: Outcome,
    latest: dict[str, Alarm] | None = None,
) -> Alarm | None:
    """Record one signal; returns the alarm it raised, folded into, or cleared.

    `latest` (from `latest_alarms`) saves the per-signal lookup in a batch; it is kept current.
    """
    alarm = latest.get(signal.key) if latest is not None else await _latest(session, signal.key)
    result = await _apply(session, alarm, signal, correlation, now, outcome)
    if latest is not None and result is not None:
        latest[signal.key] = result
    return result


async def _apply(
    session: AsyncSession,
    alarm: Alarm | None,
    signal: AlarmSignal,
    correlation: Correlation,
    now: datetime,
    outcome: Outcome,
) -> Alarm | None:
    if signal.match.clears:
        if alarm is None or alarm.state != "open":
            return None
        await _clear(session, alarm, signal, now, outcome)
        return alarm
    if (
        alarm is not None
        and alarm.state == "open"
        and signal.first_at - alarm.last_seen <= timedelta(minutes=correlation.window_minutes)
    ):
        alarm.count += signal.count
        alarm.last_seen = signal.last_at
        outcome.folded += signal.count
        return alarm
    if (
        alarm is not None
        and alarm.state == "cleared"
        and alarm.cleared_at is not None
        and signal.first_at - alarm.cleared_at <= timedelta(minutes=correlation.flapping_minutes)
    ):
        await _reopen(session, alarm, signal, correlation, now, outcome)
        return alarm
    if alarm is not None and alarm.state == "open":
        alarm.state, alarm.cleared_at = "cleared", now  # outside the window: a new alarm replaces it
    return await _open(session, signal, correlation, now, outcome)


def _new_alarm(signal: AlarmSignal, names: dict[str, str]) -> Alarm:
    rule, device = signal.match.rule, signal.device
    return Alarm(
        detected=signal.match.text(rule.detected, **names)[:300],
        key=signal.key,
        rule=rule.name,
        title=signal.match.text(rule.title, **names)[:300],
        source_address=signal.source,
        device_id=device.id if device else None,
        customer_id=device.customer_id if device else None,
        state="open",
        priority=rule.priority,
        count=signal.count,
        cycles=0,
        flapping=False,
        trap_oid=signal.trap_oid,
        varbinds=signal.varbinds,
        first_seen=signal.first_at,
        last_seen=signal.last_at,
    )


def _names(signal: AlarmSignal) -> dict[str, str]:
    """The words a rule's texts name: the device (or the source address when unknown), the address."""
    return {"device": signal.device.name if signal.device else signal.source, "address": signal.source}


async def _open(
    session: AsyncSession, signal: AlarmSignal, correlation: Correlation, now: datetime, outcome: Outcome
) -> Alarm:
    alarm = _new_alarm(signal, _names(signal))
    session.add(alarm)
    await session.flush()
    outcome.opened += 1
    if signal.device is None:
        return alarm  # unknown equipment: L1 assigns it from «alarmas sin asignar»
    device = signal.device
    grouped = await group_ticket(session, alarm, device.id, device.customer_id, correlation)
    if grouped is not None:
        await join_group(session, alarm, grouped, f"{device.name} ({signal.source}): {alarm.detected}", now)
        outcome.grouped += 1
        if grouped.device_id != device.id:  # another device of the customer down: maybe P1 now
            raised = await escalation(session, device.customer_id, correlation)
            if raised is not None:
                alarm.priority = min(alarm.priority, raised[0])
                await escalate_others(session, device.customer_id, alarm, raised, now)
        await _queue_notice(session, alarm, device.customer_id, correlation, now)
        return alarm
    if await attach_over_bound(session, alarm, signal.device.id, signal.device.name, correlation, now):
        outcome.attached += 1
        return alarm
    await _open_ticket(session, alarm, signal, signal.device, correlation, now, outcome)
    return alarm


async def _open_ticket(
    session: AsyncSession,
    alarm: Alarm,
    signal: AlarmSignal,
    device: DeviceRef,
    correlation: Correlation,
    now: datetime,
    outcome: Outcome,
) -> None:
    """The new alarm's ticket (its priority raised when many of the customer's devices are down)
    and the customer's notice."""
    rule = signal.match.rule
    raised = await escalation(session, device.customer_id, correlation)
    if raised is not None and raised[0] < alarm.priority:
        alarm.priority = raised[0]
    detected = signal.match.text(rule.detected, **_names(signal))
    description = (
        f"Detectado por monitoreo SNMP: {detected}. Equipo {device.name} ({signal.source}), "
        f"trampa {signal.trap_oid}, regla {rule.name}."
    )
    draft = alarm_draft(alarm, rule.type, description, customer_id=device.customer_id, device_id=device.id)
    await open_ticket(session, alarm, draft, author=AUTHOR, now=now)
    outcome.tickets += 1
    if raised is not None:
        await escalate_others(session, device.customer_id, alarm, raised, now)
    await _queue_notice(session, alarm, device.customer_id, correlation, now)


async def _queue_notice(
    session: AsyncSession, alarm: Alarm, customer_id: int, correlation: Correlation, now: datetime
) -> None:
    await queue_notice(
        session,
        alarm,
        customer_id,
        now,
        quiet=correlation.notice_quiet_seconds,
        max_wait=correlation.notice_max_wait_seconds,
        hold=correlation.notice_hold_max_minutes,
    )


async def _clear(session: AsyncSession, alarm: Alarm, signal: AlarmSignal, now: datetime, outcome: Outcome) -> None:
    alarm.state, alarm.cleared_at, alarm.last_seen = "cleared", signal.last_at, max(alarm.last_seen, signal.last_at)
    outcome.cleared += 1
    ticket = await session.get(Ticket, alarm.ticket_id) if alarm.ticket_id else None
    if ticket is None or not ticket.is_open:
        return
    cleared = signal.match.text(signal.match.rule.cleared or "la condición desapareció", **_names(signal))
    await resolve_on_clear(session, alarm, ticket, cleared, signal.last_at, now)


async def _reopen(
    session: AsyncSession, alarm: Alarm, signal: AlarmSignal, correlation: Correlation, now: datetime, outcome: Outcome
) -> None:
    """The alarm came back soon after clearing: one more down/up cycle of the same ticket."""
    alarm.state, alarm.cleared_at = "open", None
    alarm.cycles += 1
    alarm.count += signal.count
    alarm.last_seen = signal.last_at
    outcome.folded += signal.count
    ticket = await session.get(Ticket, alarm.ticket_id) if alarm.ticket_id else None
    if ticket is None:
        return
    text = await reopen_ticket(session, alarm, ticket, correlation, now)
    if text is None or ticket.customer is None:
        return
    # Told in the customer's wave notice, like new alarms: many interfaces bouncing at once is one message.
    if await notice_pending(session, alarm) and alarm.notice_line is None:
        return  # its first notice has not gone yet: the customer hears of it there, as detected
    alarm.notice_line = text[:500]
    await _queue_notice(session, alarm, ticket.customer.id, correlation, now)


# --- Reading alarms (API, assistant, console) -------------------------------------------


async def open_alarms(*, session: AsyncSession, customer_id: int, limit: int = 20) -> list[Alarm]:
    """A customer's open alarms, most urgent and newest first."""
    rows = await session.scalars(
        select(Alarm)
        .where(Alarm.customer_id == customer_id, Alarm.state == "open")
        .order_by(Alarm.priority, Alarm.last_seen.desc())
        .limit(max(1, min(limit, 100)))
    )
    return list(rows)


async def unassigned_alarms(*, session: AsyncSession, limit: int = 100) -> list[Alarm]:
    """Alarms from equipment no customer owns (for Level 1), newest first."""
    rows = await session.scalars(
        select(Alarm).where(Alarm.device_id.is_(None)).order_by(Alarm.last_seen.desc()).limit(max(1, min(limit, 500)))
    )
    return list(rows)


def alarm_json(alarm: Alarm, *, timezone: str = "UTC") -> dict[str, Any]:
    return {
        "id": alarm.id,
        "title": alarm.title,
        "rule": alarm.rule,
        "state": alarm.state,
        "priority": alarm.priority,
        "count": alarm.count,
        "flapping": alarm.flapping,
        "device": alarm.device.name if alarm.device else None,
        "source_address": alarm.source_address,
        "customer": alarm.customer.code if alarm.customer else None,
        "ticket": alarm.ticket.number if alarm.ticket else None,
        "trap_oid": alarm.trap_oid,
        "first_seen": alarm.first_seen.isoformat(),
        "last_seen": alarm.last_seen.isoformat(),
        # A machine-readable wall clock (the assistant reads it with `timezone`): not words.
        "last_seen_local": alarm.last_seen.astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y %H:%M"),
        "timezone": timezone,
        "cleared_at": alarm.cleared_at.isoformat() if alarm.cleared_at else None,
    }


async def all_open_alarms(*, session: AsyncSession, limit: int = 100) -> list[Alarm]:
    """Every open alarm (staff view), most urgent and newest first."""
    rows = await session.scalars(
        select(Alarm).where(Alarm.state == "open").order_by(Alarm.priority, Alarm.last_seen.desc()).limit(limit)
    )
    return list(rows)
