"""E-mail intake decisions on SQLite and PostgreSQL: new ticket, reply, stranger, loops, and
what an unauthenticated mail may do (issue #13, F9)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from promptlink.infra.db import transaction
from promptlink.models import OutboxItem, Ticket, TicketEvent
from promptlink.services.email_intake import MAX_AUTO_REPLIES_PER_HOUR, IntakeResult, receive_email
from sqlalchemy import select

ANA = "ana.gomez@cableandina.example"
LUIS = "luis.perez@cableandina.example"
MARIA = "maria.rodriguez@telecaribe.example"
SUPPORT = "soporte@promptlink.example"
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


async def _receive(sessions, sender: str, subject: str, body: str = "Texto del correo.", **kw) -> IntakeResult:
    kw.setdefault("authenticated", True)
    async with transaction(sessions) as session:
        return await receive_email(
            session=session,
            sender=sender,
            subject=subject,
            body=body,
            now=kw.pop("now", NOW),
            support_email=SUPPORT,
            **kw,
        )


async def _ticket(sessions, number: str) -> tuple[Ticket, list[TicketEvent]]:
    async with sessions() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
        events = await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))
        return ticket, list(events)


async def _mails(sessions, to: str) -> list[OutboxItem]:
    async with sessions() as session:
        rows = await session.scalars(select(OutboxItem).where(OutboxItem.recipient == to).order_by(OutboxItem.id))
        return list(rows)


async def test_a_known_contact_opens_a_ticket_and_gets_one_acknowledgement(seeded) -> None:
    result = await _receive(seeded, " Ana.Gomez@CableAndina.example ", "  El módem   no sincroniza ")
    assert result.outcome == "created" and result.ticket_number
    ticket, events = await _ticket(seeded, result.ticket_number)
    assert (ticket.channel, ticket.type, ticket.verified) == ("email", "information", True)
    assert ticket.customer.code == "CABLEANDINA" and ticket.contact.email == ANA
    assert ticket.title == "El módem no sincroniza" and ticket.description == "Texto del correo."
    email_in = [e for e in events if e.kind == "email_in"]
    assert len(email_in) == 1 and email_in[0].data["outcome"] == "created" and not email_in[0].public
    mails = await _mails(seeded, ANA)
    assert len(mails) == 1  # create_ticket's acknowledgement, no second auto-reply
    assert result.ticket_number in mails[0].subject and result.ticket_number in mails[0].body


async def test_no_subject_gets_a_placeholder_title(seeded) -> None:
    result = await _receive(seeded, ANA, "")
    ticket, _ = await _ticket(seeded, result.ticket_number)
    assert ticket.title == "(sin asunto)"


async def test_a_reply_carrying_the_number_is_added_to_that_ticket(seeded) -> None:
    first = await _receive(seeded, ANA, "Caída del servicio")
    later = NOW + timedelta(minutes=5)
    reply = await _receive(
        seeded,
        LUIS,  # another contact of the same customer may add to it
        f"RE: [{first.ticket_number.lower()}] Tiquete registrado: Caída del servicio",
        "Sigue sin funcionar desde las 9:00.",
        now=later,
        message_id="<abc@cableandina.example>",
    )
    assert reply == IntakeResult("appended", first.ticket_number)
    ticket, events = await _ticket(seeded, first.ticket_number)
    message = [e for e in events if e.kind == "customer_message"]
    assert [(e.text, e.author, e.data["channel"], e.public) for e in message] == [
        ("Sigue sin funcionar desde las 9:00.", LUIS, "email", True)
    ]
    assert [e.data["outcome"] for e in events if e.kind == "email_in"] == ["created", "appended"]
    assert ticket.updated_at == later
    (auto_reply,) = await _mails(seeded, LUIS)
    assert auto_reply.subject.startswith(f"[{first.ticket_number}]")
    assert auto_reply.body.startswith(f"Hemos añadido su mensaje al tiquete {first.ticket_number}")
    assert auto_reply.headers["Auto-Submitted"] == "auto-replied"
    assert auto_reply.headers["In-Reply-To"] == "<abc@cableandina.example>"
    async with seeded() as session:
        count = await session.scalar(select(Ticket.id).where(Ticket.id > ticket.id))
    assert count is None  # no new ticket


async def test_an_empty_reply_is_still_recorded(seeded) -> None:
    first = await _receive(seeded, ANA, "Consulta")
    reply = await _receive(seeded, ANA, f"Re: {first.ticket_number}", "   ")
    assert reply.outcome == "appended"
    _, events = await _ticket(seeded, first.ticket_number)
    assert [e.text for e in events if e.kind == "customer_message"] == ["(correo sin texto)"]


async def test_an_unknown_sender_opens_an_unverified_ticket_for_level_1(seeded) -> None:
    result = await _receive(seeded, "Alguien@Ejemplo.example", "Quiero contratar soporte")
    assert result.outcome == "unverified"
    ticket, events = await _ticket(seeded, result.ticket_number)
    assert (ticket.verified, ticket.customer_id, ticket.contact_id) == (False, None, None)
    assert ticket.reporter_email == "alguien@ejemplo.example" and ticket.tier == "L1"
    assert [e.data["outcome"] for e in events if e.kind == "email_in"] == ["unverified"]
    (reply,) = await _mails(seeded, "alguien@ejemplo.example")  # only the "under review" reply
    assert "revisará su solicitud" in reply.body and result.ticket_number in reply.body
    # The stranger may add to its own ticket by replying with the number.
    again = await _receive(seeded, "alguien@ejemplo.example", f"Re: [{result.ticket_number}]", "Somos ISP Norte.")
    assert again == IntakeResult("appended", result.ticket_number)


@pytest.mark.parametrize("sender", [MARIA, "intruso@ejemplo.example"])
async def test_a_number_the_sender_may_not_touch_is_treated_as_a_new_mail(seeded, sender: str) -> None:
    ana = await _receive(seeded, ANA, "Incidencia privada de Cable Andina")
    before, before_events = await _ticket(seeded, ana.ticket_number)
    result = await _receive(seeded, sender, f"Re: [{ana.ticket_number}] quiero ver esto", "Añadan esto, por favor.")
    assert result.outcome == ("created" if sender == MARIA else "unverified")
    assert result.ticket_number != ana.ticket_number
    after, after_events = await _ticket(seeded, ana.ticket_number)
    assert len(after_events) == len(before_events) and after.updated_at == before.updated_at
    new, events = await _ticket(seeded, result.ticket_number)
    assert new.customer_id != before.customer_id
    (email_in,) = [e for e in events if e.kind == "email_in"]
    assert email_in.data["ignored_number"] == ana.ticket_number
    # Nothing sent to the other sender shows Ana's ticket (its number only echoes their own subject).
    for mail in await _mails(seeded, sender):
        assert "privada" not in mail.subject + mail.body


async def test_an_unknown_number_is_treated_as_a_new_mail(seeded) -> None:
    result = await _receive(seeded, ANA, "Re: [PL-2026-999999] consulta")
    assert result.outcome == "created"


@pytest.mark.parametrize(
    ("sender", "auto_submitted", "reason"),
    [
        (SUPPORT, None, "own support address"),
        ("SOPORTE@promptlink.example", "no", "own support address"),
        (ANA, "auto-replied", "Auto-Submitted: auto-replied"),
        (ANA, "auto-generated; owner-email=x@y", "Auto-Submitted: auto-generated"),
        ("", None, "null sender"),
    ],
)
async def test_automatic_mail_and_our_own_are_ignored_and_logged(
    seeded, caplog, sender: str, auto_submitted: str | None, reason: str
) -> None:
    with caplog.at_level(logging.INFO, logger="promptlink.services.email_intake"):
        result = await _receive(
            seeded, sender, "Respuesta automática: fuera de la oficina", auto_submitted=auto_submitted
        )
    assert result.outcome == "ignored" and result.ticket_number is None and reason in result.reason
    async with seeded() as session:
        assert await session.scalar(select(Ticket.id)) is None
        assert await session.scalar(select(OutboxItem.id)) is None
    (record,) = [r for r in caplog.records if r.getMessage() == "email received"]
    assert record.outcome == "ignored" and reason in record.reason


async def test_auto_submitted_no_is_an_ordinary_mail(seeded) -> None:
    assert (await _receive(seeded, ANA, "Consulta", auto_submitted="no")).outcome == "created"


async def test_auto_replies_to_one_sender_are_capped_per_hour(seeded) -> None:
    first = await _receive(seeded, "bucle@ejemplo.example", "Consulta")
    for i in range(MAX_AUTO_REPLIES_PER_HOUR + 3):
        result = await _receive(seeded, "bucle@ejemplo.example", f"Re: [{first.ticket_number}] {i}", f"eco {i}")
        assert result.outcome == "appended"
    assert len(await _mails(seeded, "bucle@ejemplo.example")) == MAX_AUTO_REPLIES_PER_HOUR
    _, events = await _ticket(seeded, first.ticket_number)
    assert len([e for e in events if e.kind == "customer_message"]) == MAX_AUTO_REPLIES_PER_HOUR + 3
    later = await _receive(
        seeded,
        "bucle@ejemplo.example",
        f"Re: [{first.ticket_number}]",
        "una hora después",
        now=NOW + timedelta(hours=2),
    )
    assert later.outcome == "appended"
    assert len(await _mails(seeded, "bucle@ejemplo.example")) == MAX_AUTO_REPLIES_PER_HOUR + 1


class Gate:
    """A reply gate that lets `allow` replies through and records who was asked about."""

    def __init__(self, allow: int = 100) -> None:
        self.allow, self.asked = allow, []

    async def __call__(self, recipient: str) -> bool:
        self.asked.append(recipient)
        return len(self.asked) <= self.allow


async def test_an_unauthenticated_mail_from_a_contact_is_never_verified(seeded) -> None:
    result = await _receive(seeded, ANA, "Cambien el contacto de facturación", authenticated=False)
    assert result.outcome == "unverified"
    ticket, events = await _ticket(seeded, result.ticket_number)
    assert (ticket.verified, ticket.customer_id, ticket.contact_id, ticket.reporter_email) == (False, None, None, ANA)
    (email_in,) = [e for e in events if e.kind == "email_in"]
    assert email_in.data["claimed_contact"] is True and email_in.data["authenticated"] is False


async def test_an_unauthenticated_reply_is_held_until_the_contact_confirms(seeded) -> None:
    first = await _receive(seeded, ANA, "Caída del servicio")
    before, _ = await _ticket(seeded, first.ticket_number)
    gate = Gate()
    held = await _receive(
        seeded,
        ANA,
        f"Re: [{first.ticket_number}]",
        "Texto que nadie ha confirmado.",
        authenticated=False,
        reply_gate=gate,
        now=NOW + timedelta(minutes=1),
    )
    assert held == IntakeResult("held", first.ticket_number)
    ticket, events = await _ticket(seeded, first.ticket_number)
    assert [e for e in events if e.kind == "customer_message"] == [] and ticket.updated_at == before.updated_at
    (event,) = [e for e in events if e.kind == "email_held"]
    assert not event.public and event.data["text"] == "Texto que nadie ha confirmado."
    request = (await _mails(seeded, ANA))[-1]
    assert gate.asked == [ANA] and "Texto que nadie" not in request.subject + request.body
    code = re.search(r"CONF-[A-Z2-7]{16}", request.subject).group(0)

    # Another contact, a wrong code, or the code after 72 hours releases nothing.
    assert (await _receive(seeded, LUIS, f"Re: [{first.ticket_number}] {code}", authenticated=False)).outcome == "held"
    wrong = f"Re: [{first.ticket_number}] CONF-{'B' * 16}"
    assert (await _receive(seeded, ANA, wrong, authenticated=False)).outcome == "held"
    late = NOW + timedelta(hours=73)
    assert (await _receive(seeded, ANA, f"Re: {request.subject}", authenticated=False, now=late)).outcome == "held"
    _, events = await _ticket(seeded, first.ticket_number)
    assert [e for e in events if e.kind == "customer_message"] == []

    confirmed = await _receive(
        seeded, ANA, f"RE: {request.subject.lower()}", "> cita", authenticated=False, now=NOW + timedelta(hours=1)
    )
    assert confirmed == IntakeResult("confirmed", first.ticket_number)
    _, events = await _ticket(seeded, first.ticket_number)
    assert [(e.text, e.author) for e in events if e.kind == "customer_message"] == [
        ("Texto que nadie ha confirmado.", ANA)
    ]
    # A code works once.
    again = await _receive(seeded, ANA, f"Re: {request.subject}", authenticated=False, now=NOW + timedelta(hours=1))
    assert again.outcome == "held"


async def test_auto_replies_to_unauthenticated_senders_pass_the_gate(seeded) -> None:
    gate = Gate(allow=1)
    for i in range(3):
        result = await _receive(
            seeded, f"victima{i}@ejemplo.example", f"Hola {i}", authenticated=False, reply_gate=gate
        )
        assert result.outcome == "unverified"
    assert gate.asked == [f"victima{i}@ejemplo.example" for i in range(3)]
    sent = [len(await _mails(seeded, f"victima{i}@ejemplo.example")) for i in range(3)]
    assert sent == [1, 0, 0]
    # An authenticated sender's replies do not ask the gate (its own hourly cap applies).
    await _receive(seeded, "conocido@ejemplo.example", "Hola", authenticated=True, reply_gate=gate)
    assert len(gate.asked) == 3 and len(await _mails(seeded, "conocido@ejemplo.example")) == 1
