"""E-mail intake: a received mail opens a ticket, or adds to the ticket its subject names.

The SMTP transport (`transports/smtp/server.py`) parses the message, decides whether its
`From` is *authenticated* (SPF/DKIM/DMARC, `transports/smtp/authentication.py`) and calls
`receive_email`; this module decides what the mail means:

- the subject carries the number of a ticket the sender may touch (a contact of the
  ticket's customer, or the reporter of an unverified ticket) → an authenticated mail's
  text is added to it; an unauthenticated mail's text is *held*: the address on file gets
  a confirmation request with a one-time code in its subject, and only a reply carrying
  that code (within 72 hours) adds the held text;
- the sender is a known contact and the mail is authenticated → a new (verified) ticket
  for the contact's customer;
- anyone else, and every unauthenticated mail → an unverified ticket for Level 1 triage.

A number the sender may not touch is ignored (the mail is treated as new), so a mail
never reveals or changes another customer's ticket. Automatic mail (bounces, vacation
replies, our own messages) is dropped so two auto-responders cannot loop. Auto-replies
to unauthenticated senders pass the transport's `reply_gate` (rate limits), so the intake
cannot be used to send mail to arbitrary addresses.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Contact, OutboxItem, Ticket, TicketEvent
from promptlink.services.outbox import enqueue_email
from promptlink.services.ticket_events import log_event
from promptlink.services.ticket_updates import add_customer_message
from promptlink.services.tickets import MAX_TEXT, MAX_TITLE, TicketDraft, create_ticket

log = logging.getLogger(__name__)

Outcome = Literal["created", "appended", "unverified", "held", "confirmed", "ignored"]
# Decides whether an auto-reply to an unauthenticated sender may go out (rate limits).
ReplyGate = Callable[[str], Awaitable[bool]]

TICKET_NUMBER = re.compile(r"PL-\d{4}-\d{6}", re.IGNORECASE)
# The one-time code of a confirmation request: 16 base32 characters (80 random bits).
CONFIRMATION_CODE = re.compile(r"\bCONF-([A-Z2-7]{16})\b", re.IGNORECASE)
CONFIRMATION_TTL = timedelta(hours=72)
NO_SUBJECT = "(sin asunto)"
NO_TEXT = "(correo sin texto)"
# A non-compliant auto-responder (one that sets no Auto-Submitted header) could still
# answer every auto-reply; past this many per hour the sender gets no more of ours.
MAX_AUTO_REPLIES_PER_HOUR = 5
SIGNATURE = "Soporte Técnico Promptlink"


@dataclass(frozen=True)
class IntakeResult:
    """What a received mail did: its outcome, the ticket it touched and, if ignored, why."""

    outcome: Outcome
    ticket_number: str | None = None
    reason: str = ""


def sender_address(raw: str) -> str:
    """The normalised (trimmed, lower-case) form of an e-mail address."""
    return raw.strip().strip("<>").strip().lower()


async def receive_email(
    *,
    session: AsyncSession,
    sender: str,
    subject: str,
    body: str,
    now: datetime,
    support_email: str,
    authenticated: bool,
    auto_submitted: str | None = None,
    message_id: str = "",
    auth_results: str = "",
    reply_gate: ReplyGate | None = None,
) -> IntakeResult:
    """Turn one received mail into a new ticket, an addition to a ticket, a held addition, or nothing.

    `sender` is the author's address; `authenticated` whether the transport could prove it
    (only then is a contact's mail «verified» or added to a ticket directly); `auto_submitted`
    the mail's `Auto-Submitted` header (RFC 3834); `reply_gate` is asked before each
    auto-reply to an unauthenticated sender. The caller owns the transaction.
    """
    sender = sender_address(sender)
    subject = " ".join(subject.split())[:MAX_TITLE]
    body = body.strip()[:MAX_TEXT]
    message_id = " ".join(message_id.split())[:300]  # it goes back out in In-Reply-To: one line
    ignored = _loop_guard(sender=sender, support_email=support_email, auto_submitted=auto_submitted)
    if ignored:
        _log_mail("ignored", sender=sender, subject=subject, message_id=message_id, reason=ignored)
        return IntakeResult("ignored", reason=ignored)

    mail: dict[str, Any] = {
        "from": sender,
        "subject": subject,
        "message_id": message_id,
        "authenticated": authenticated,
    }
    if auth_results:
        mail["auth_results"] = auth_results[:500]
    gate = None if authenticated else reply_gate
    contact = await session.scalar(select(Contact).where(func.lower(Contact.email) == sender))
    number = _ticket_number(subject)
    if number is not None:
        added = await _to_ticket(session, number, contact, _Received(mail, body, now, gate))
        if added is not None:
            return added
        # Unknown, or another customer's ticket: say nothing about it, treat the mail as new.
        mail["ignored_number"] = number
    return await _new_ticket(session, contact, _Received(mail, body, now, gate))


@dataclass(frozen=True)
class _Received:
    """The mail being handled: its facts (for the history), its text, when, its reply gate."""

    mail: dict[str, Any]
    body: str
    now: datetime
    gate: ReplyGate | None


async def _to_ticket(
    session: AsyncSession, number: str, contact: Contact | None, received: _Received
) -> IntakeResult | None:
    """The mail's text added to (or held for) the ticket its subject names; None when the sender
    may not touch that ticket or there is none."""
    mail, body, now, gate = received.mail, received.body, received.now, received.gate
    ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None or not _may_touch(ticket, sender=mail["from"], contact=contact):
        return None
    if mail["authenticated"]:
        return await _append(session, ticket, mail=mail, body=body, now=now)
    held = await _held_for(session, ticket, subject=mail["subject"], sender=mail["from"], now=now)
    if held is not None:
        return await _confirm(session, ticket, held, mail=mail, now=now, gate=gate)
    return await _hold(session, ticket, mail=mail, body=body, now=now, gate=gate)


async def _new_ticket(session: AsyncSession, contact: Contact | None, received: _Received) -> IntakeResult:
    """A new ticket: verified for a known contact's authenticated mail, else unverified (Level 1)."""
    mail, body, now, gate = received.mail, received.body, received.now, received.gate
    if not mail["authenticated"] and contact is not None:
        # Anyone can write a contact's address in From: without proof the mail is not the contact's.
        mail["claimed_contact"] = True
        contact = None
    sender = mail["from"]
    draft = TicketDraft(
        channel="email",
        type="information",
        title=mail["subject"] or NO_SUBJECT,
        description=body,
        customer_id=contact.customer_id if contact else None,
        contact_id=contact.id if contact else None,
        reporter_email=None if contact else sender,
        verified=contact is not None,
    )
    created = await create_ticket(session=session, draft=draft, author=sender, now=now)
    ticket = created.ticket
    outcome: Outcome = "created" if contact else "unverified"
    _record(session, ticket, now=now, mail=mail, outcome=outcome)
    if contact is None:
        # A known contact's acknowledgement (with the number) comes from create_ticket.
        subject = f"[{ticket.number}] Correo recibido: {ticket.title}"
        lines = [
            f"Hemos recibido su correo y lo hemos registrado con el número {ticket.number}.",
            "No hemos podido asociarlo a ninguno de nuestros clientes: un especialista de "
            "Soporte de Nivel 1 revisará su solicitud y le responderá.",
            "Si es cliente de Promptlink, indique en su respuesta el nombre de su empresa.",
        ]
        await _auto_reply(session, ticket, now=now, mail=mail, gate=gate, subject=subject, lines=lines)
    _log_mail(outcome, sender=sender, subject=mail["subject"], message_id=mail["message_id"], ticket=ticket.number)
    return IntakeResult(outcome, ticket.number)


def _loop_guard(*, sender: str, support_email: str, auto_submitted: str | None) -> str:
    """Why the mail must not be answered (empty when it may be)."""
    if not sender:
        return "null sender (a bounce or delivery report)"
    if sender == sender_address(support_email):
        return "sent by our own support address"
    if auto_submitted is not None and auto_submitted.strip().split(";")[0].strip().lower() not in ("", "no"):
        return f"Auto-Submitted: {auto_submitted.strip()[:60]}"
    return ""


def _ticket_number(subject: str) -> str | None:
    match = TICKET_NUMBER.search(subject)
    return match.group(0).upper() if match else None


def _may_touch(ticket: Ticket, *, sender: str, contact: Contact | None) -> bool:
    """A contact of the ticket's customer, or the reporter of a ticket without customer."""
    if ticket.customer_id is not None:
        return contact is not None and contact.customer_id == ticket.customer_id
    return bool(ticket.reporter_email) and sender_address(ticket.reporter_email or "") == sender


async def _append(
    session: AsyncSession,
    ticket: Ticket,
    *,
    mail: dict[str, Any],
    body: str,
    now: datetime,
    outcome: Outcome = "appended",
    gate: ReplyGate | None = None,
) -> IntakeResult:
    sender = mail["from"]
    await add_customer_message(
        session=session, ticket=ticket, text=body or NO_TEXT, author=sender, now=now, channel="email"
    )
    _record(session, ticket, now=now, mail=mail, outcome=outcome)
    lines = [
        f"Hemos añadido su mensaje al tiquete {ticket.number}: {ticket.title}",
        "El especialista que lo atiende lo tendrá en cuenta en su próxima actualización.",
    ]
    subject = f"[{ticket.number}] Mensaje añadido: {ticket.title}"
    await _auto_reply(session, ticket, now=now, mail=mail, gate=gate, subject=subject, lines=lines)
    _log_mail(outcome, sender=sender, subject=mail["subject"], message_id=mail["message_id"], ticket=ticket.number)
    return IntakeResult(outcome, ticket.number)


def _code_digest(code: str) -> str:
    return hashlib.sha256(code.upper().encode()).hexdigest()


async def _hold(
    session: AsyncSession, ticket: Ticket, *, mail: dict[str, Any], body: str, now: datetime, gate: ReplyGate | None
) -> IntakeResult:
    """Keep an unauthenticated addition aside and ask the address on file to confirm it.

    The held text is an internal event: the ticket, its customer-visible history and its
    `updated_at` stay as they were. The request goes to the sender's address, which
    `_may_touch` has matched to a contact of the ticket's customer (or the ticket's
    reporter), so only the real mailbox's owner can see the code. It quotes nothing of the
    held mail: a forger cannot use it to put words in our mail.
    """
    sender = mail["from"]
    code = "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    expires = now + CONFIRMATION_TTL
    held = {**mail, "outcome": "held", "text": body or NO_TEXT, "code_digest": _code_digest(code)}
    text = f"Correo no autenticado de {sender} retenido hasta que lo confirme: {mail['subject'] or NO_SUBJECT}"
    log_event(session, ticket, now, "email_held", sender, text=text, data={**held, "expires_at": expires.isoformat()})
    lines = [
        f"Hemos recibido un correo enviado en su nombre para el tiquete {ticket.number}: {ticket.title}",
        "No hemos podido comprobar que lo envió usted, así que todavía no lo hemos añadido.",
        "Si lo envió usted, responda a este correo sin cambiar el asunto y lo añadiremos al tiquete "
        f"(el código caduca en {int(CONFIRMATION_TTL.total_seconds() // 3600)} horas).",
        "Si no lo envió usted, ignore este mensaje: no se añadirá nada.",
    ]
    subject = f"[{ticket.number}] Confirme su mensaje CONF-{code}"
    await _auto_reply(session, ticket, now=now, mail=mail, gate=gate, subject=subject, lines=lines, footer=False)
    _log_mail("held", sender=sender, subject=mail["subject"], message_id=mail["message_id"], ticket=ticket.number)
    return IntakeResult("held", ticket.number)


async def _held_for(
    session: AsyncSession, ticket: Ticket, *, subject: str, sender: str, now: datetime
) -> TicketEvent | None:
    """The pending held mail of this sender whose code the subject carries (None if none matches)."""
    match = CONFIRMATION_CODE.search(subject)
    if match is None:
        return None
    digest = _code_digest(match.group(1))
    events = (
        await session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind.in_(("email_held", "email_confirmed")))
            .order_by(TicketEvent.id.desc())
            .limit(200)
        )
    ).all()
    used = {e.data.get("held_event") for e in events if e.kind == "email_confirmed"}
    for event in events:
        data = event.data or {}
        if (
            event.kind == "email_held"
            and event.id not in used
            and hmac.compare_digest(str(data.get("code_digest", "")), digest)
            and data.get("from") == sender
            and datetime.fromisoformat(str(data.get("expires_at"))) > now
        ):
            return event
    return None


async def _confirm(
    session: AsyncSession,
    ticket: Ticket,
    held: TicketEvent,
    *,
    mail: dict[str, Any],
    now: datetime,
    gate: ReplyGate | None,
) -> IntakeResult:
    """The address on file answered the confirmation request: the held text is added."""
    text = f"{mail['from']} confirmó el correo retenido: {held.data.get('subject') or NO_SUBJECT}"
    data = {"held_event": held.id, "message_id": mail["message_id"]}
    log_event(session, ticket, now, "email_confirmed", mail["from"], text=text, data=data)
    original = {**mail, "subject": held.data.get("subject", ""), "confirmed_by": mail["message_id"]}
    text = str(held.data.get("text") or "")
    return await _append(session, ticket, mail=original, body=text, now=now, outcome="confirmed", gate=gate)


def _record(session: AsyncSession, ticket: Ticket, *, now: datetime, mail: dict[str, Any], outcome: str) -> None:
    """The mail in the ticket's history (internal: the customer sees its own words elsewhere)."""
    text = f"Correo recibido de {mail['from']}: {mail['subject'] or NO_SUBJECT}"
    if "ignored_number" in mail:
        text += f" (el asunto cita {mail['ignored_number']}, que no corresponde al remitente)"
    log_event(session, ticket, now, "email_in", mail["from"], text=text, data={**mail, "outcome": outcome})
    ticket.updated_at = now


async def _auto_reply(
    session: AsyncSession,
    ticket: Ticket,
    *,
    now: datetime,
    mail: dict[str, Any],
    subject: str,
    lines: list[str],
    gate: ReplyGate | None = None,
    footer: bool = True,
) -> None:
    """An RFC 3834 auto-reply, unless this sender already got too many of them.

    With a `gate` (an unauthenticated sender, limits kept by the transport) the gate decides;
    otherwise at most MAX_AUTO_REPLIES_PER_HOUR mails of ours to this address per hour.
    """
    sender = mail["from"]
    if gate is not None:
        if not await gate(sender):
            log.warning("auto-reply suppressed", extra={"to": sender, "ticket": ticket.number, "reason": "rate limit"})
            return
    else:
        recent = await session.scalar(
            select(func.count())
            .select_from(OutboxItem)
            .where(
                OutboxItem.kind == "email",
                OutboxItem.recipient == sender,
                OutboxItem.created_at >= now - timedelta(hours=1),
            )
        )
        if (recent or 0) >= MAX_AUTO_REPLIES_PER_HOUR:
            log.warning("auto-reply suppressed", extra={"to": sender, "ticket": ticket.number, "recent": recent})
            return
    headers: dict[str, Any] = {"Auto-Submitted": "auto-replied"}
    if mail["message_id"]:
        headers.update({"In-Reply-To": mail["message_id"], "References": mail["message_id"]})
    body = "\n".join(lines)
    if footer:
        body += "\n\nPara añadir información, responda a este correo conservando el número en el asunto."
    body += "\n" + SIGNATURE
    enqueue_email(session=session, to=sender, subject=subject, body=body, now=now, ticket_id=ticket.id, headers=headers)


def _log_mail(
    outcome: str, *, sender: str, subject: str, message_id: str, ticket: str | None = None, reason: str = ""
) -> None:
    log.info(
        "email received",
        extra={
            "outcome": outcome,
            "sender": sender,
            "subject": subject[:120],
            "message_id": message_id[:300],
            "ticket": ticket,
            "reason": reason,
        },
    )
