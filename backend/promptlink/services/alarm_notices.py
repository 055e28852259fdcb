"""What an alarm tells the customer: the proactive notice in its chats and by e-mail."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Contact, Conversation, Customer, Message, Ticket
from promptlink.services.conversations import PROACTIVE_AUTHOR, append_message
from promptlink.services.notifications import notification_parties
from promptlink.services.outbox import enqueue_email
from promptlink.services.spanish import datetime_in_words, zone_in_words
from promptlink.services.ticket_events import log_event
from promptlink.vocabulary import CADENCE_TEXT, TIER_NAMES

AUTHOR = "snmp"  # the history's author of what monitoring does


def local_time(when: datetime, timezone: str) -> str:
    """«25 de noviembre de 2026, 10:00» on the clock of `timezone` (what customers read)."""
    return datetime_in_words(when, timezone)


def opened_notice(lead: str, at: datetime, ticket: Ticket, customer: Customer) -> str:
    """The customer's notice of an alarm's new ticket: `lead` says what happened, then when, the
    ticket, who handles it and when the next update comes."""
    when = local_time(at, customer.timezone)
    due = local_time(ticket.next_update_due, customer.timezone) if ticket.next_update_due else "—"
    return (
        f"{lead} el {when} (hora de {zone_in_words(customer.timezone)}). "
        f"Abrimos el tiquete {ticket.number} con prioridad P{ticket.priority}; "
        f"lo atiende {TIER_NAMES[ticket.tier]}. Próxima actualización: a más tardar "
        f"el {due}, y luego {CADENCE_TEXT[ticket.priority]}."
    )


async def tell_customer(
    session: AsyncSession, ticket: Ticket, customer: Customer, text: str, now: datetime, *, subject: str
) -> list[Message]:
    """The proactive notice: the customer's chats (now or on the next visit) and e-mail.

    Returns the chat messages written (the caller pushes them to open chats)."""
    messages = []
    for conversation_id in await _target_conversations(session, customer):
        appended = await append_message(
            session=session, conversation_id=conversation_id, role="system", text=text, author_name=PROACTIVE_AUTHOR
        )
        messages.append(appended.message)
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
    return messages


async def announce_opened(
    session: AsyncSession, ticket: Ticket, customer: Customer, lead: str, at: datetime, now: datetime
) -> list[Message]:
    """Tell the customer that an alarm (`lead`, seen `at`) opened `ticket`."""
    text = opened_notice(lead, at, ticket, customer)
    return await tell_customer(session, ticket, customer, text, now, subject="Alarma detectada")


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
