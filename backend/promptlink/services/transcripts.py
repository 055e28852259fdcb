"""A chat's transcript by e-mail, asked for by the customer once the chat has ended.

The transcript (plain text and simple escaped HTML, in Spanish, times on the customer's clock)
goes out through the outbox to the contact's e-mail (an anonymous visitor types one), and is
kept in the history of the conversation's ticket, with whom it was sent to. One request per
conversation per minute.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Conversation, ConversationEvent, Message, Ticket
from promptlink.services.conversations import messages_after
from promptlink.services.errors import DomainError, InvalidInput
from promptlink.services.handoff import lock_conversation
from promptlink.services.outbox import enqueue_email
from promptlink.services.spanish import datetime_in_words, zone, zone_in_words
from promptlink.services.ticket_events import log_event
from promptlink.services.users import EMAIL

INTERVAL = timedelta(minutes=1)
MAX_MESSAGES = 5000
TITLE = "Soporte Técnico Promptlink"
SPEAKERS = {"customer": "Usted", "bot": "Asistente", "agent": "Agente", "system": TITLE}


class TranscriptRefused(DomainError):
    """Not now: the chat has not ended, or a transcript was sent less than a minute ago."""

    status = 409


class TranscriptTooSoon(DomainError):
    status = 429


class EmailNeeded(InvalidInput):
    """An anonymous visitor must say where to send it."""

    def fields(self) -> dict[str, Any]:
        return {"need_email": True}


@dataclass(frozen=True)
class TranscriptSent:
    conversation_id: str
    to: str
    ticket: str | None


def speaker(message: Message) -> str:
    if message.role == "agent" and message.author_name:
        return message.author_name
    return SPEAKERS.get(message.role, TITLE)


def _time(when: datetime, timezone: str) -> str:
    return when.astimezone(zone(timezone)).strftime("%d/%m/%Y %H:%M")


def transcript_text(messages: Sequence[Message], *, timezone: str, heading: str) -> str:
    lines = [heading, ""]
    for m in messages:
        lines.append(f"[{_time(m.created_at, timezone)}] {speaker(m)}:")
        lines.extend(f"  {line}" for line in m.text.splitlines() or [""])
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def transcript_html(messages: Sequence[Message], *, timezone: str, heading: str) -> str:
    """A simple HTML document; every piece of text escaped."""
    rows = []
    for m in messages:
        text = "<br>".join(html.escape(line) for line in m.text.splitlines())
        rows.append(
            f"<p><small>{html.escape(_time(m.created_at, timezone))}</small> "
            f"<strong>{html.escape(speaker(m))}:</strong><br>{text}</p>"
        )
    return (
        '<!doctype html><html lang="es"><head><meta charset="utf-8">'
        f"<title>{html.escape(TITLE)}</title></head><body>"
        f"<h1>{html.escape(TITLE)}</h1><p>{html.escape(heading)}</p>{''.join(rows)}</body></html>"
    )


def _address(conversation: Conversation, email: Any) -> str:
    """The contact's e-mail when known; otherwise the one the visitor typed, validated."""
    if conversation.contact is not None:
        return conversation.contact.email
    if email is None or (isinstance(email, str) and not email.strip()):
        raise EmailNeeded("an anonymous visitor must give an e-mail", public="Indique su correo electrónico.")
    if not isinstance(email, str) or len(email.strip()) > 254 or not EMAIL.match(email.strip()):
        raise InvalidInput(
            "email is not a valid address", public="El correo electrónico no es válido (ejemplo: nombre@empresa.com)."
        )
    return email.strip()


async def send_transcript(*, session: AsyncSession, conversation_id: str, email: Any, now: datetime) -> TranscriptSent:
    """Queue the transcript of an ended chat for e-mail and keep it in the ticket's history."""
    conversation = await lock_conversation(session, conversation_id)
    if conversation.mode != "closed":
        raise TranscriptRefused(
            "only an ended conversation's transcript is sent",
            public="Podrá recibir la conversación por correo cuando haya terminado.",
        )
    to = _address(conversation, email)
    last = await session.scalar(
        select(func.max(ConversationEvent.created_at)).where(
            ConversationEvent.conversation_id == conversation.id, ConversationEvent.kind == "transcript"
        )
    )
    if last is not None and now - _aware(last, now) < INTERVAL:
        raise TranscriptTooSoon(
            "a transcript was sent less than a minute ago",
            public="Ya le enviamos la conversación hace un momento. Espere un minuto para pedirla de nuevo.",
        )
    timezone = conversation.customer.timezone if conversation.customer else "UTC"
    messages = await messages_after(session=session, conversation_id=conversation.id, last_seq=0, limit=MAX_MESSAGES)
    started = messages[0].created_at if messages else now
    heading = (
        f"Conversación del {datetime_in_words(started, timezone)} "
        f"(hora de {zone_in_words(timezone)}); referencia {conversation.id}."
    )
    text = transcript_text(messages, timezone=timezone, heading=heading)
    ticket = None
    if conversation.ticket_number:
        ticket = await session.scalar(select(Ticket).where(Ticket.number == conversation.ticket_number))
    subject = f"{TITLE}: su conversación" + (f" ({ticket.number})" if ticket else "")
    enqueue_email(
        session=session,
        to=to,
        subject=subject,
        body=text,
        html=transcript_html(messages, timezone=timezone, heading=heading),
        now=now,
        ticket_id=ticket.id if ticket else None,
    )
    session.add(
        ConversationEvent(
            conversation_id=conversation.id, kind="transcript", author="customer", text=to, created_at=now
        )
    )
    if ticket is not None:
        log_event(
            session,
            ticket,
            now,
            "transcript_sent",
            "customer",
            text=f"Transcripción del chat enviada por correo a {to}.\n\n{text}",
            data={"to": to, "conversation_id": conversation.id, "sent": True},
        )
    await session.flush()
    return TranscriptSent(conversation_id=conversation.id, to=to, ticket=ticket.number if ticket else None)


def _aware(when: datetime, now: datetime) -> datetime:
    """SQLite gives naive datetimes back (UTC)."""
    return when.replace(tzinfo=now.tzinfo) if when.tzinfo is None and now.tzinfo is not None else when
