"""What a new ticket sets off, as the support plan routes it: a bug for the developers, a hardware
replacement (RMA), and the acknowledgement mail to the reporter."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.infra.db import next_id
from promptlink.models import Rma, Ticket
from promptlink.services.bugs import MAX_TEXT as MAX_BUG_TEXT
from promptlink.services.bugs import open_bug
from promptlink.services.outbox import insert_email
from promptlink.services.spanish import datetime_in_words, zone_in_words
from promptlink.services.ticket_events import log_event
from promptlink.services.ticket_links import TicketLinks
from promptlink.services.ticket_rules import RoutingDecision
from promptlink.vocabulary import CADENCE_TEXT, TIER_NAMES

FASTEST_SHIPPING = "Envío urgente (el modo de envío más rápido disponible)"


async def set_off(
    session: AsyncSession,
    ticket: Ticket,
    routing: RoutingDecision,
    *,
    related: Ticket | None,
    author: str,
    now: datetime,
) -> TicketLinks:
    """The bug and the RMA `routing` asks for, then the acknowledgement; what the ticket links to."""
    bug = rma = None
    if routing.open_bug:
        bug = await open_bug(
            session=session,
            title=ticket.title,
            description=bug_description(ticket),
            product=product(ticket),
            version=ticket.version,
            author=author,
            now=now,
            ticket=ticket,
        )
    if routing.rma:
        rma = await open_rma(session, ticket, now, author)
    await acknowledge(session, ticket, now)
    return TicketLinks(
        related_number=related.number if related else None,
        rma=rma,
        rma_device=device_label(ticket) if rma else None,
        bug=bug,
    )


def device_label(ticket: Ticket) -> str | None:
    """The device as shown: its registered name, else the customer's words."""
    return ticket.device.name if ticket.device else ticket.device_text


def product(ticket: Ticket) -> str:
    """The bug tracker's product: the registered device's model, else what the customer called it."""
    return (ticket.device.model if ticket.device else ticket.device_text or "")[:100]


def bug_description(ticket: Ticket) -> str:
    """The ticket's description with the details a developer needs (error message, since when)."""
    parts = [ticket.description.strip()] if ticket.description.strip() else []
    if ticket.error_message:
        parts.append(f"Mensaje de error: {ticket.error_message}")
    if ticket.since is not None:
        zone = ticket.customer.timezone if ticket.customer else "UTC"
        parts.append(f"Desde: {datetime_in_words(ticket.since, zone)} (hora de {zone_in_words(zone)})")
    return "\n\n".join(parts)[:MAX_BUG_TEXT]


async def open_rma(session: AsyncSession, ticket: Ticket, now: datetime, author: str) -> Rma:
    # The serial the customer gave (the unit it has in hand), else the registered device's.
    serial = ticket.serial or (ticket.device.serial if ticket.device else "")
    rma = Rma(
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        device_id=ticket.device_id,
        device_text=None if ticket.device else ticket.device_text,
        serial=serial,
        shipping_method=FASTEST_SHIPPING,
        status="requested",
        created_at=now,
        updated_at=now,
    )
    rma.id = await next_id(session, Rma)  # the number goes in with the INSERT
    rma.number = f"RMA-{now.year}-{rma.id:06d}"
    session.add(rma)
    text = f"Sustitución de hardware {rma.number} solicitada con {FASTEST_SHIPPING.lower()}."
    log_event(session, ticket, now, "rma", author, public=True, text=text, data={"rma": rma.number})
    return rma


async def acknowledge(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    """Confirm the new ticket to the reporter (the first update follows docs/support-plan.md#update-cadence)."""
    to = ticket.contact.email if ticket.contact else ticket.reporter_email
    if not to or not ticket.verified:
        # An unverified reporter gets the intake channel's own reply (under review), not this one.
        return
    lines = [
        f"Hemos registrado su tiquete {ticket.number}: {ticket.title}",
        *details_lines(ticket),
        f"Prioridad: P{ticket.priority}. Lo atiende: {TIER_NAMES[ticket.tier]}.",
        f"Le informaremos {CADENCE_TEXT[ticket.priority]} hasta su resolución.",
    ]
    if not ticket.covered:
        lines.append(ticket.coverage_note)
    lines.append("\nPara añadir información, responda a este correo conservando el número en el asunto.")
    await insert_email(
        session=session,
        to=to,
        subject=f"[{ticket.number}] Tiquete registrado: {ticket.title}",
        body="\n".join(lines) + "\nSoporte Técnico Promptlink",
        now=now,
        ticket_id=ticket.id,
        headers={"Auto-Submitted": "auto-replied"},  # auto-responders must not answer it (RFC 3834)
    )


def details_lines(ticket: Ticket) -> list[str]:
    """What the customer told us, as we recorded it (dates in words, in its time zone)."""
    zone = ticket.customer.timezone if ticket.customer else "UTC"
    details = [
        ("Equipo", device_label(ticket)),
        ("Número de serie", ticket.serial),
        ("Versión", ticket.version),
        ("Mensaje de error", ticket.error_message),
        ("Desde", f"{datetime_in_words(ticket.since, zone)} (hora de {zone_in_words(zone)})" if ticket.since else None),
    ]
    return [f"{label}: {value}" for label, value in details if value]
