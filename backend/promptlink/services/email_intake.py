"""E-mail intake: a received mail opens a ticket, or adds to the ticket its subject names.

The SMTP transport (`promptlink.smtp_intake`) parses the message and calls
`receive_email`; this module decides what the mail means:

- the subject carries the number of a ticket the sender may touch (a contact of the
  ticket's customer, or the reporter of an unverified ticket) → the text is added to it;
- the sender is a known contact → a new ticket for the contact's customer;
- anyone else → an unverified ticket for Level 1 triage.

A number the sender may not touch is ignored (the mail is treated as new), so a mail
never reveals or changes another customer's ticket. Automatic mail (bounces, vacation
replies, our own messages) is dropped so two auto-responders cannot loop.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Contact, OutboxItem, Ticket, TicketEvent
from .outbox import enqueue_email
from .tickets import MAX_TEXT, MAX_TITLE, TicketDraft, add_customer_message, create_ticket

log = logging.getLogger(__name__)

Outcome = Literal["created", "appended", "unverified", "ignored"]

TICKET_NUMBER = re.compile(r"PL-\d{4}-\d{6}", re.IGNORECASE)
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
    auto_submitted: str | None = None,
    message_id: str = "",
) -> IntakeResult:
    """Turn one received mail into a new ticket, an addition to a ticket, or nothing.

    `sender` is the author's address; `auto_submitted` the mail's `Auto-Submitted` header
    (RFC 3834). The caller owns the transaction.
    """
    sender = sender_address(sender)
    subject = " ".join(subject.split())[:MAX_TITLE]
    body = body.strip()[:MAX_TEXT]
    message_id = " ".join(message_id.split())[:300]  # it goes back out in In-Reply-To: one line
    ignored = _loop_guard(sender=sender, support_email=support_email, auto_submitted=auto_submitted)
    if ignored:
        _log_mail("ignored", sender=sender, subject=subject, message_id=message_id, reason=ignored)
        return IntakeResult("ignored", reason=ignored)

    mail = {"from": sender, "subject": subject, "message_id": message_id}
    contact = await session.scalar(select(Contact).where(func.lower(Contact.email) == sender))
    number = _ticket_number(subject)
    if number is not None:
        ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
        if ticket is not None and _may_touch(ticket, sender=sender, contact=contact):
            return await _append(session, ticket, mail=mail, body=body, now=now)
        # Unknown, or another customer's ticket: say nothing about it, treat the mail as new.
        mail["ignored_number"] = number

    draft = TicketDraft(
        channel="email",
        type="information",
        title=subject or NO_SUBJECT,
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
        await _auto_reply(
            session,
            ticket,
            now=now,
            mail=mail,
            subject=f"[{ticket.number}] Correo recibido: {ticket.title}",
            lines=[
                f"Hemos recibido su correo y lo hemos registrado con el número {ticket.number}.",
                "Su dirección no figura entre los contactos de nuestros clientes: un especialista de "
                "Soporte de Nivel 1 revisará su solicitud y le responderá.",
                "Si es cliente de Promptlink, indique en su respuesta el nombre de su empresa.",
            ],
        )
    _log_mail(outcome, sender=sender, subject=subject, message_id=message_id, ticket=ticket.number)
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
    session: AsyncSession, ticket: Ticket, *, mail: dict[str, Any], body: str, now: datetime
) -> IntakeResult:
    sender = mail["from"]
    await add_customer_message(
        session=session, ticket=ticket, text=body or NO_TEXT, author=sender, now=now, channel="email"
    )
    _record(session, ticket, now=now, mail=mail, outcome="appended")
    await _auto_reply(
        session,
        ticket,
        now=now,
        mail=mail,
        subject=f"[{ticket.number}] Mensaje añadido: {ticket.title}",
        lines=[
            f"Hemos añadido su mensaje al tiquete {ticket.number}: {ticket.title}",
            "El especialista que lo atiende lo tendrá en cuenta en su próxima actualización.",
        ],
    )
    _log_mail("appended", sender=sender, subject=mail["subject"], message_id=mail["message_id"], ticket=ticket.number)
    return IntakeResult("appended", ticket.number)


def _record(session: AsyncSession, ticket: Ticket, *, now: datetime, mail: dict[str, Any], outcome: str) -> None:
    """The mail in the ticket's history (internal: the customer sees its own words elsewhere)."""
    text = f"Correo recibido de {mail['from']}: {mail['subject'] or NO_SUBJECT}"
    if "ignored_number" in mail:
        text += f" (el asunto cita {mail['ignored_number']}, que no corresponde al remitente)"
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=now,
            kind="email_in",
            public=False,
            author=mail["from"],
            text=text,
            data={**mail, "outcome": outcome},
        )
    )
    ticket.updated_at = now


async def _auto_reply(
    session: AsyncSession,
    ticket: Ticket,
    *,
    now: datetime,
    mail: dict[str, Any],
    subject: str,
    lines: list[str],
) -> None:
    """An RFC 3834 auto-reply, unless this sender already got too many of them."""
    sender = mail["from"]
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
    body += "\n\nPara añadir información, responda a este correo conservando el número en el asunto.\n" + SIGNATURE
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
