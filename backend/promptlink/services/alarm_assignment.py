"""Level 1 assigns equipment nobody owned: an alarm from an unknown address gets its device.

The device takes the alarm's address (later traps from it find the customer) and every open
alarm from that address gets its ticket and the customer's notice, as if the device had been
known when the trap came.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Alarm, Customer, Device
from promptlink.services.alarm_notices import announce_opened, local_time
from promptlink.services.alarm_tickets import alarm_draft, attach_over_bound, open_ticket
from promptlink.services.alarms import Outcome
from promptlink.services.audit import record
from promptlink.services.errors import DomainError, InvalidInput, NotFound
from promptlink.services.spanish import plural, zone_in_words
from promptlink.services.trap_rules import Correlation, TrapRules


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
    alarm = await _unassigned_alarm(session, alarm_id)
    device = await _device_named(session, device_name)
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
    detail = {
        "device": device.name,
        "customer": customer.code,
        "address": address,
        "previous_address": previous_address,
        "alarms": [a.id for a in same_source],
    }
    record(session=session, actor=actor, action="alarm.assign", target=f"alarm:{alarm.id}", detail=detail, now=now)
    await session.flush()
    await session.refresh(alarm, ["device", "customer", "ticket"])
    return alarm


async def _unassigned_alarm(session: AsyncSession, alarm_id: int) -> Alarm:
    alarm = await session.get(Alarm, alarm_id)
    if alarm is None:
        raise NotFound(f"alarm {alarm_id} not found", public="La alarma no existe.")
    if alarm.device_id is not None:
        raise AlreadyAssigned(f"alarm {alarm_id} is already assigned", public="La alarma ya está asignada a un equipo.")
    return alarm


async def _device_named(session: AsyncSession, device_name: str) -> Device:
    device = await session.scalar(select(Device).where(Device.name == device_name.strip()))
    if device is None:
        raise InvalidInput(f"unknown device {device_name!r}", public="El equipo no existe.")
    return device


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
    if await attach_over_bound(session, alarm, device.id, device.name, correlation, now):
        outcome.attached += 1
        return
    description = (
        f"Detectado por monitoreo SNMP desde {alarm.source_address}, equipo entonces sin registrar; "
        f"{actor} lo asignó a {device.name}. Trampa {alarm.trap_oid}, regla {alarm.rule}, "
        f"{plural(alarm.count, 'aviso', 'avisos')} desde el {local_time(alarm.first_seen, customer.timezone)} "
        f"(hora de {zone_in_words(customer.timezone)})."
    )
    draft = alarm_draft(alarm, ticket_type, description, customer_id=customer.id, device_id=device.id)
    ticket = await open_ticket(session, alarm, draft, author=actor, now=now)
    outcome.tickets += 1
    lead = f"Aviso de monitoreo: su equipo {device.name} ({alarm.source_address}) informó «{alarm.title}»"
    outcome.messages += await announce_opened(session, ticket, customer, lead, alarm.first_seen, now)
