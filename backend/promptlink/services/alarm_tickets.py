"""What an alarm does to tickets: opens one (or joins its device's, past the bound), raises the
priority when many of a customer's devices are down, resolves it on the clearing trap, reopens
it when the alarm comes back (an intermittent fault after N cycles)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Alarm, Device, Ticket
from promptlink.services.alarm_notices import AUTHOR, local_time
from promptlink.services.spanish import plural, zone_in_words
from promptlink.services.ticket_events import log_event
from promptlink.services.ticket_rules import IncidentFacts
from promptlink.services.ticket_updates import change_priority, change_status
from promptlink.services.tickets import TicketDraft, create_ticket
from promptlink.services.trap_rules import Correlation
from promptlink.vocabulary import OPEN_STATUSES

# The priority definitions (docs/support-plan.md#priorities) as the facts that classify to each priority.
FACTS_FOR_PRIORITY = {
    1: IncidentFacts(production_down=True, solution_available=False),
    2: IncidentFacts(severely_damaged=True, solution_available=False),
    3: IncidentFacts(damaged=True),
    4: IncidentFacts(),
}
STILL_OPEN = ("alarma sigue abierta", "alarmas siguen abiertas")
_MORE = re.compile(r" y \d+ alarmas? más$")  # what join_group adds to a ticket's title


def alarm_draft(alarm: Alarm, ticket_type: str, description: str, *, customer_id: int, device_id: int) -> TicketDraft:
    """The SNMP ticket of `alarm` (its title, the facts of its priority)."""
    return TicketDraft(
        channel="snmp",
        type=ticket_type,
        title=alarm.title,
        description=description,
        facts=FACTS_FOR_PRIORITY[alarm.priority],
        customer_id=customer_id,
        device_id=device_id,
    )


async def open_ticket(session: AsyncSession, alarm: Alarm, draft: TicketDraft, *, author: str, now: datetime) -> Ticket:
    """The alarm's new ticket (through `create_ticket`, as every channel)."""
    ticket = (await create_ticket(session=session, draft=draft, author=author, now=now)).ticket
    alarm.ticket_id = ticket.id
    return ticket


async def attach_over_bound(
    session: AsyncSession, alarm: Alarm, device_id: int, device_name: str, correlation: Correlation, now: datetime
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
    return True


async def group_ticket(
    session: AsyncSession, alarm: Alarm, device_id: int, customer_id: int, correlation: Correlation
) -> Ticket | None:
    """The open ticket that the new `alarm` joins instead of opening its own, if any.

    Of the same rule, whose latest alarm came shortly before this one: on the same device within
    `device_group_seconds` (a wave of interfaces going down), else on another of the customer's
    devices within `customer_group_seconds` (a wave across the customer's equipment).
    """
    for seconds, where in (
        (correlation.device_group_seconds, Alarm.device_id == device_id),
        (correlation.customer_group_seconds, Alarm.customer_id == customer_id),
    ):
        if seconds <= 0:
            continue
        ticket_id = await session.scalar(
            select(Alarm.ticket_id)
            .join(Ticket, Ticket.id == Alarm.ticket_id)
            .where(
                where,
                Alarm.rule == alarm.rule,
                Alarm.id != alarm.id,
                Alarm.first_seen >= alarm.first_seen - timedelta(seconds=seconds),
                Ticket.channel == "snmp",
                Ticket.status.in_(OPEN_STATUSES),
            )
            .order_by(Alarm.first_seen.desc(), Alarm.id.desc())
            .limit(1)
        )
        if ticket_id is not None:
            return await session.get(Ticket, ticket_id)
    return None


async def join_group(session: AsyncSession, alarm: Alarm, ticket: Ticket, what: str, now: datetime) -> int:
    """`alarm` joins `ticket`: `what` (device and what was detected) is added to its description and
    history, and its title counts the alarms. Returns how many alarms the ticket has now."""
    alarm.ticket_id = ticket.id
    if ticket.priority < alarm.priority:
        alarm.priority = ticket.priority
    count = int(await session.scalar(select(func.count()).select_from(Alarm).where(Alarm.ticket_id == ticket.id)) or 0)
    first = _MORE.sub("", ticket.title)  # the first alarm's title (with «[Intermitente]» if it is)
    ticket.title = f"{first} y {plural(count - 1, 'alarma más', 'alarmas más')}"[:300]
    ticket.description = f"{ticket.description}\n- {what}."
    ticket.updated_at = now
    log_event(session, ticket, now, "alarm_grouped", AUTHOR, text=f"Alarma agrupada en este tiquete: {what}.")
    return count


async def escalation(session: AsyncSession, customer_id: int, correlation: Correlation) -> tuple[int, str] | None:
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


async def escalate_others(
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


async def resolve_on_clear(
    session: AsyncSession, alarm: Alarm, ticket: Ticket, cleared: str, at: datetime, now: datetime
) -> None:
    """The alarm's open ticket once the condition `cleared` (at `at`): resolved, unless other
    alarms attached to it are still open or the fault is intermittent. The resolution (one message
    to the customer) names every alarm of the ticket when it has several (a wave)."""
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
    resolution = f"el monitoreo detectó que {cleared} el {local_time(at, zone)} (hora de {zone_in_words(zone)}). "
    # Every alarm of the ticket, this one included (the session's own object: its count as it is now).
    group = list(await session.scalars(select(Alarm).where(Alarm.ticket_id == ticket.id).order_by(Alarm.id)))
    if len(group) > 1:
        # A wave's ticket (many interfaces, devices): the one resolution the customer gets names them all.
        resolution += (
            f"Con ello quedaron despejadas las {len(group)} alarmas de este tiquete "
            f"({plural(sum(a.count for a in group), 'aviso', 'avisos')}):\n" + "\n".join(f"- {a.title}" for a in group)
        )
    else:
        resolution += f"La alarma ({plural(alarm.count, 'aviso', 'avisos')}) quedó despejada."
    await change_status(
        session=session, ticket=ticket, status="resolved", author=AUTHOR, now=now, resolution=resolution
    )


async def reopen_ticket(
    session: AsyncSession, alarm: Alarm, ticket: Ticket, correlation: Correlation, now: datetime
) -> str | None:
    """The ticket of an alarm that came back (`alarm.cycles` counts it): reopened, marked intermittent
    after `correlation.flapping_cycles` cycles; the customer's notice, None when there is nothing new."""
    became_flapping = not alarm.flapping and alarm.cycles + 1 >= correlation.flapping_cycles
    if ticket.status in ("resolved", "closed"):
        await change_status(session=session, ticket=ticket, status="open", author=AUTHOR, now=now)
    if became_flapping:
        alarm.flapping = True
        if not ticket.title.startswith("[Intermitente]"):
            ticket.title = f"[Intermitente] {ticket.title}"[:300]
        minutes = correlation.flapping_minutes
        within = f"{minutes:g} minuto" if minutes == 1 else f"{minutes:g} minutos"
        return (
            f"La alarma «{alarm.title}» se activó y despejó {alarm.cycles + 1} veces en menos de "
            f"{within}: la tratamos como una falla intermitente en el tiquete "
            f"{ticket.number}, que queda abierto hasta que un especialista la revise."
        )
    if not alarm.flapping:
        return f"La alarma «{alarm.title}» se detectó de nuevo; el tiquete {ticket.number} sigue en curso."
    return None
