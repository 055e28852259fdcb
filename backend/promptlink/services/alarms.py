"""Alarms from network equipment: correlation, tickets and the proactive message.

The SNMP worker hands over `AlarmSignal`s (repeats already folded in memory); this
module owns what they mean: a new alarm opens a ticket through `create_ticket`
(channel `snmp`) and tells the customer first; a repeat inside the window adds to the
count; the clearing trap resolves the ticket and tells the customer; N down/up cycles
inside M minutes make one ticket marked as intermittent; many of a customer's devices
down raises the priority. A device opens at most `correlation.device_tickets` tickets per
`device_ticket_window_minutes`: past that, a new alarm of that device is attached to its
open SNMP ticket (an internal entry, no new notice), so distinct keys cannot flood tickets.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Alarm, Contact, Conversation, Customer, Device, Message, Ticket
from promptlink.models.ticket import OPEN_STATUSES
from promptlink.services.audit import record
from promptlink.services.cadence import CADENCE_TEXT
from promptlink.services.conversations import PROACTIVE_AUTHOR, append_message
from promptlink.services.errors import DomainError, InvalidInput, NotFound
from promptlink.services.notifications import notification_parties
from promptlink.services.outbox import enqueue_email
from promptlink.services.rules import IncidentFacts
from promptlink.services.spanish import TIER_NAMES, datetime_in_words, plural, zone_in_words
from promptlink.services.tickets import TicketDraft, change_priority, change_status, create_ticket
from promptlink.services.tickets import _log as log_event
from promptlink.services.trap_rules import Correlation, Match, TrapRules

# The seed's priority definitions as the facts that classify to each priority.
FACTS_FOR_PRIORITY = {
    1: IncidentFacts(production_down=True, solution_available=False),
    2: IncidentFacts(severely_damaged=True, solution_available=False),
    3: IncidentFacts(damaged=True),
    4: IncidentFacts(),
}
AUTHOR = "snmp"
STILL_OPEN = ("alarma sigue abierta", "alarmas siguen abiertas")


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


def _local(when: datetime, timezone: str) -> str:
    """«25 de noviembre de 2026, 10:00» on the clock of `timezone` (what customers read)."""
    return datetime_in_words(when, timezone)


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


async def _open(
    session: AsyncSession, signal: AlarmSignal, correlation: Correlation, now: datetime, outcome: Outcome
) -> Alarm:
    rule, device = signal.match.rule, signal.device
    names = {"device": device.name if device else signal.source, "address": signal.source}
    alarm = Alarm(
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
    session.add(alarm)
    await session.flush()
    outcome.opened += 1
    if device is None:
        return alarm  # unknown equipment: L1 assigns it from «alarmas sin asignar»
    if await _attach_over_bound(session, alarm, device.id, device.name, correlation, now, outcome):
        return alarm
    escalation = await _escalation(session, device.customer_id, correlation)
    if escalation is not None and escalation[0] < alarm.priority:
        alarm.priority = escalation[0]
    detected = signal.match.text(rule.detected, **names)
    draft = TicketDraft(
        channel="snmp",
        type=rule.type,
        title=alarm.title,
        description=(
            f"Detectado por monitoreo SNMP: {detected}. Equipo {device.name} ({signal.source}), "
            f"trampa {signal.trap_oid}, regla {rule.name}."
        ),
        facts=FACTS_FOR_PRIORITY[alarm.priority],
        customer_id=device.customer_id,
        device_id=device.id,
    )
    created = await create_ticket(session=session, draft=draft, author=AUTHOR, now=now)
    ticket = created.ticket
    alarm.ticket_id = ticket.id
    outcome.tickets += 1
    if escalation is not None:
        await _escalate_others(session, device.customer_id, alarm, escalation, now)
    customer = await session.get(Customer, device.customer_id)
    assert customer is not None
    lead = f"Aviso de monitoreo: en su equipo {device.name} ({signal.source}) {detected},"
    text = _opened_notice(lead, signal.first_at, ticket, customer)
    await _tell_customer(session, ticket, customer, text, now, outcome, subject="Alarma detectada")
    return alarm


async def _attach_over_bound(
    session: AsyncSession,
    alarm: Alarm,
    device_id: int,
    device_name: str,
    correlation: Correlation,
    now: datetime,
    outcome: Outcome,
) -> bool:
    """Past the device's ticket bound, attach `alarm` to the device's SNMP ticket instead of opening one.

    The ticket is the device's newest open SNMP ticket, else its newest SNMP ticket of the window
    (left as it is: the alarm stays open in the alarm lists). Returns whether it was attached.
    """
    since = now - timedelta(minutes=correlation.device_ticket_window_minutes)
    of_device = (Ticket.channel == "snmp", Ticket.device_id == device_id)
    recent = await session.scalar(
        select(func.count()).select_from(Ticket).where(*of_device, Ticket.created_at >= since)
    )
    if int(recent or 0) < correlation.device_tickets:
        return False
    ticket = await session.scalar(
        select(Ticket).where(*of_device, Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.id.desc()).limit(1)
    ) or await session.scalar(select(Ticket).where(*of_device).order_by(Ticket.id.desc()).limit(1))
    if ticket is None:  # cannot happen with a bound of 1 or more; open one rather than lose the alarm
        return False
    alarm.ticket_id = ticket.id
    ticket.updated_at = now
    minutes = correlation.device_ticket_window_minutes
    log_event(
        session,
        ticket,
        now,
        "alarm_attached",
        AUTHOR,
        text=(
            f"Alarma adicional de {device_name}: {alarm.title}. Se adjunta a este tiquete porque el equipo ya "
            f"abrió {plural(correlation.device_tickets, 'tiquete', 'tiquetes')} en {minutes:g} minutos."
        ),
    )
    outcome.attached += 1
    return True


def _opened_notice(lead: str, at: datetime, ticket: Ticket, customer: Customer) -> str:
    """The customer's notice of an alarm's new ticket: `lead` says what happened, then when, the
    ticket, who handles it and when the next update comes."""
    when = _local(at, customer.timezone)
    due = _local(ticket.next_update_due, customer.timezone) if ticket.next_update_due else "—"
    return (
        f"{lead} el {when} (hora de {zone_in_words(customer.timezone)}). "
        f"Abrimos el tiquete {ticket.number} con prioridad P{ticket.priority}; "
        f"lo atiende {TIER_NAMES[ticket.tier]}. Próxima actualización: a más tardar "
        f"el {due}, y luego {CADENCE_TEXT[ticket.priority]}."
    )


async def _escalation(session: AsyncSession, customer_id: int, correlation: Correlation) -> tuple[int, str] | None:
    """(priority, reason) when enough of the customer's devices have open alarms."""
    total = await session.scalar(select(func.count()).select_from(Device).where(Device.customer_id == customer_id))
    affected = await session.scalar(
        select(func.count(func.distinct(Alarm.device_id))).where(
            Alarm.customer_id == customer_id, Alarm.state == "open", Alarm.device_id.is_not(None)
        )
    )
    total, affected = int(total or 0), int(affected or 0)
    if total < correlation.escalate_min_devices or affected / total < correlation.escalate_share:
        return None
    reason = f"{affected} de {total} equipos del cliente tienen alarmas abiertas"
    return correlation.escalate_priority, reason


async def _escalate_others(
    session: AsyncSession, customer_id: int, alarm: Alarm, escalation: tuple[int, str], now: datetime
) -> None:
    priority, reason = escalation
    rows = await session.scalars(
        select(Alarm).where(
            Alarm.customer_id == customer_id, Alarm.state == "open", Alarm.id != alarm.id, Alarm.priority > priority
        )
    )
    for other in rows:
        other.priority = priority
        ticket = await session.get(Ticket, other.ticket_id) if other.ticket_id else None
        if ticket is not None and ticket.is_open and ticket.priority > priority:
            await change_priority(
                session=session, ticket=ticket, priority=priority, reason=reason, author=AUTHOR, now=now
            )


async def _clear(session: AsyncSession, alarm: Alarm, signal: AlarmSignal, now: datetime, outcome: Outcome) -> None:
    alarm.state, alarm.cleared_at, alarm.last_seen = "cleared", signal.last_at, max(alarm.last_seen, signal.last_at)
    outcome.cleared += 1
    ticket = await session.get(Ticket, alarm.ticket_id) if alarm.ticket_id else None
    if ticket is None or not ticket.is_open:
        return
    rule = signal.match.rule
    names = {"device": signal.device.name if signal.device else signal.source, "address": signal.source}
    cleared = signal.match.text(rule.cleared or "la condición desapareció", **names)
    still_open = await session.scalar(
        select(func.count())
        .select_from(Alarm)
        .where(Alarm.ticket_id == ticket.id, Alarm.state == "open", Alarm.id != alarm.id)
    )
    if still_open:
        # Other alarms attached to this ticket are still open: it stays open for them.
        ticket.updated_at = now
        log_event(
            session,
            ticket,
            now,
            "alarm_cleared",
            AUTHOR,
            text=f"Alarma despejada: {cleared}; {plural(int(still_open), *STILL_OPEN)}.",
        )
        return
    if alarm.flapping:
        # An intermittent fault stays open for the specialist; the customer hears at the cadence.
        ticket.updated_at = now
        log_event(session, ticket, now, "alarm_cleared", AUTHOR, text=f"Alarma despejada (intermitente): {cleared}.")
        return
    zone = ticket.customer.timezone if ticket.customer else "UTC"
    when = _local(signal.last_at, zone)
    await change_status(
        session=session,
        ticket=ticket,
        status="resolved",
        author=AUTHOR,
        now=now,
        resolution=(
            f"el monitoreo detectó que {cleared} el {when} (hora de {zone_in_words(zone)}). "
            f"La alarma ({plural(alarm.count, 'aviso', 'avisos')}) quedó despejada."
        ),
    )


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
    became_flapping = not alarm.flapping and alarm.cycles + 1 >= correlation.flapping_cycles
    if ticket.status in ("resolved", "closed"):
        await change_status(session=session, ticket=ticket, status="open", author=AUTHOR, now=now)
    if became_flapping:
        alarm.flapping = True
        if not ticket.title.startswith("[Intermitente]"):
            ticket.title = f"[Intermitente] {ticket.title}"[:300]
        minutes = correlation.flapping_minutes
        within = f"{minutes:g} minuto" if minutes == 1 else f"{minutes:g} minutos"
        text = (
            f"La alarma «{alarm.title}» se activó y despejó {alarm.cycles + 1} veces en menos de "
            f"{within}: la tratamos como una falla intermitente en el tiquete "
            f"{ticket.number}, que queda abierto hasta que un especialista la revise."
        )
    elif not alarm.flapping:
        text = f"La alarma «{alarm.title}» se detectó de nuevo; el tiquete {ticket.number} sigue en curso."
    else:
        return
    customer = ticket.customer
    if customer is not None:
        await _tell_customer(session, ticket, customer, text, now, outcome, subject="Alarma")


async def _tell_customer(
    session: AsyncSession,
    ticket: Ticket,
    customer: Customer,
    text: str,
    now: datetime,
    outcome: Outcome,
    *,
    subject: str,
) -> None:
    """The proactive notice: the customer's chats (now or on the next visit) and e-mail."""
    for conversation_id in await _target_conversations(session, customer):
        appended = await append_message(
            session=session, conversation_id=conversation_id, role="system", text=text, author_name=PROACTIVE_AUTHOR
        )
        outcome.messages.append(appended.message)
        if ticket.conversation_id is None:
            ticket.conversation_id = conversation_id
    for email in await notification_parties(session=session, ticket=ticket):
        enqueue_email(
            session=session,
            to=email,
            subject=f"[{ticket.number}] {subject}: {ticket.title}",
            body=f"{text}\n\nSoporte Técnico Promptlink",
            now=now,
            ticket_id=ticket.id,
        )
    log_event(session, ticket, now, "proactive_notice", AUTHOR, public=True, text=text)


async def _target_conversations(session: AsyncSession, customer: Customer) -> list[str]:
    """Each contact's latest open conversation; with none, a new one per notification contact."""
    rows = (
        await session.execute(
            select(Conversation.contact_id, Conversation.id)
            .where(Conversation.customer_id == customer.id, Conversation.mode != "closed")
            .where(Conversation.contact_id.is_not(None))
            .order_by(Conversation.contact_id, Conversation.updated_at.desc(), Conversation.id)
        )
    ).all()
    latest: dict[int, str] = {}
    for contact_id, conversation_id in rows:
        latest.setdefault(contact_id, conversation_id)
    if latest:
        return list(latest.values())
    contacts = await session.scalars(
        select(Contact).where(Contact.customer_id == customer.id, Contact.notification_party.is_(True))
    )
    created: list[str] = []
    for contact in contacts:
        conversation = Conversation(
            id=str(uuid.uuid4()), customer_id=customer.id, contact_id=contact.id, mode="bot", last_seq=0
        )
        session.add(conversation)
        created.append(conversation.id)
    await session.flush()
    return created


# --- Level 1 assigns equipment nobody owned --------------------------------------------


class AlreadyAssigned(DomainError):
    status = 409


async def assign_alarm(
    *,
    session: AsyncSession,
    alarm_id: int,
    device_name: Any,
    rules: TrapRules | None,
    actor: str,
    now: datetime,
    outcome: Outcome,
) -> Alarm:
    """Level 1 says which customer device sent an unassigned alarm.

    The device takes the alarm's source address (later traps from it find the customer), every
    unassigned alarm from that address is attached to it, and each one still open gets its ticket
    and the customer's notice, as if the device had been known when the trap came.
    """
    if not isinstance(device_name, str) or not 0 < len(device_name.strip()) <= 100:
        raise InvalidInput("device must be a device name", public="Indique el nombre del equipo.")
    alarm = await session.get(Alarm, alarm_id)
    if alarm is None:
        raise NotFound(f"alarm {alarm_id} not found", public="La alarma no existe.")
    if alarm.device_id is not None:
        raise AlreadyAssigned(f"alarm {alarm_id} is already assigned", public="La alarma ya está asignada a un equipo.")
    device = await session.scalar(select(Device).where(Device.name == device_name.strip()))
    if device is None:
        raise InvalidInput(f"unknown device {device_name!r}", public="El equipo no existe.")
    customer = await session.get(Customer, device.customer_id)
    assert customer is not None
    address = alarm.source_address
    previous_address, device.mgmt_address = device.mgmt_address, address
    same_source = list(
        await session.scalars(
            select(Alarm).where(Alarm.device_id.is_(None), Alarm.source_address == address).order_by(Alarm.id)
        )
    )
    types = {rule.name: rule.type for rule in rules.rules} if rules is not None else {}
    correlation = rules.correlation if rules is not None else Correlation()
    for each in same_source:
        each.device_id, each.customer_id = device.id, customer.id
        if each.state == "open":
            ticket_type = types.get(each.rule, "network_outage")  # a rule renamed since: the SNMP default
            await _ticket_for_assigned(session, each, ticket_type, device, customer, actor, now, outcome, correlation)
    record(
        session=session,
        actor=actor,
        action="alarm.assign",
        target=f"alarm:{alarm.id}",
        detail={
            "device": device.name,
            "customer": customer.code,
            "address": address,
            "previous_address": previous_address,
            "alarms": [a.id for a in same_source],
        },
        now=now,
    )
    await session.flush()
    await session.refresh(alarm, ["device", "customer", "ticket"])
    return alarm


async def _ticket_for_assigned(
    session: AsyncSession,
    alarm: Alarm,
    ticket_type: str,
    device: Device,
    customer: Customer,
    actor: str,
    now: datetime,
    outcome: Outcome,
    correlation: Correlation,
) -> None:
    if await _attach_over_bound(session, alarm, device.id, device.name, correlation, now, outcome):
        return
    draft = TicketDraft(
        channel="snmp",
        type=ticket_type,
        title=alarm.title,
        description=(
            f"Detectado por monitoreo SNMP desde {alarm.source_address}, equipo entonces sin registrar; "
            f"{actor} lo asignó a {device.name}. Trampa {alarm.trap_oid}, regla {alarm.rule}, "
            f"{plural(alarm.count, 'aviso', 'avisos')} desde el {_local(alarm.first_seen, customer.timezone)} "
            f"(hora de {zone_in_words(customer.timezone)})."
        ),
        facts=FACTS_FOR_PRIORITY[alarm.priority],
        customer_id=customer.id,
        device_id=device.id,
    )
    ticket = (await create_ticket(session=session, draft=draft, author=actor, now=now)).ticket
    alarm.ticket_id = ticket.id
    outcome.tickets += 1
    lead = f"Aviso de monitoreo: su equipo {device.name} ({alarm.source_address}) informó «{alarm.title}»"
    text = _opened_notice(lead, alarm.first_seen, ticket, customer)
    await _tell_customer(session, ticket, customer, text, now, outcome, subject="Alarma detectada")


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
