"""Customer updates: a public history entry, e-mail to every notification party, the chat.

This is the support plan's obligation (a)–(c) (docs/support-plan.md#update-cadence): inform the
customer, update the «Notificaciones» of the parties identified, and record it in the tracking
database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Contact, Customer, Ticket, TicketEvent
from promptlink.services.cadence import next_update_due
from promptlink.services.outbox import enqueue_chat, enqueue_email
from promptlink.vocabulary import STATUS_NAMES


async def notification_parties(*, session: AsyncSession, ticket: Ticket) -> list[str]:
    """E-mail addresses to inform: the customer's notification contacts and the reporter."""
    emails: list[str] = []
    if ticket.customer_id is not None:
        rows = await session.scalars(
            select(Contact.email)
            .where(Contact.customer_id == ticket.customer_id, Contact.notification_party.is_(True))
            .order_by(Contact.id)
        )
        emails.extend(rows)
    if ticket.contact is not None:
        emails.append(ticket.contact.email)
    elif ticket.reporter_email:
        emails.append(ticket.reporter_email)
    return list(dict.fromkeys(e.lower() for e in emails))


def schedule_next_update(ticket: Ticket, customer: Customer | None, *, now: datetime) -> None:
    """Move `next_update_due` by the ticket's priority (none once it is resolved or closed)."""
    if not ticket.is_open:
        ticket.next_update_due = None
        return
    if customer is None:
        # An unverified ticket has no business hours of its own: the vendor's day (UTC) applies.
        from datetime import time

        ticket.next_update_due = next_update_due(now, priority=ticket.priority, timezone="UTC", business_end=time(18))
        return
    ticket.next_update_due = next_update_due(
        now, priority=ticket.priority, timezone=customer.timezone, business_end=customer.business_end
    )


async def inform_customer(
    *,
    session: AsyncSession,
    ticket: Ticket,
    text: str,
    author: str,
    now: datetime,
    kind: str = "update",
    author_name: str = "Soporte Técnico Promptlink",
    move_cadence: bool = True,
) -> TicketEvent:
    """Send `text` to every notification party (e-mail and chat) and log it publicly."""
    parties = await notification_parties(session=session, ticket=ticket)
    subject = f"[{ticket.number}] Actualización: {ticket.title}"
    body = (
        f"{text}\n\n"
        f"Tiquete: {ticket.number}\nPrioridad: P{ticket.priority}\nEstado: {STATUS_NAMES[ticket.status]}\n\n"
        "Para responder, conteste este correo conservando el número de tiquete en el asunto.\n"
        "Soporte Técnico Promptlink"
    )
    for email in parties:
        enqueue_email(session=session, to=email, subject=subject, body=body, now=now, ticket_id=ticket.id)
    channels = ["email"] if parties else []
    if ticket.conversation_id:
        enqueue_chat(
            session=session,
            conversation_id=ticket.conversation_id,
            ticket_id=ticket.id,
            now=now,
            author=author_name,
            text=f"Actualización de su tiquete {ticket.number}: {text}",
        )
        channels.append("chat")
    event = TicketEvent(
        ticket_id=ticket.id,
        at=now,
        kind=kind,
        public=True,
        author=author,
        text=text,
        data={"recipients": parties, "channels": channels},
    )
    session.add(event)
    ticket.last_update_at = now
    ticket.updated_at = now
    if move_cadence:
        schedule_next_update(ticket, ticket.customer, now=now)
    return event
