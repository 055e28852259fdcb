"""A chat's transcript by e-mail (issue #15): only once ended, to the contact's address (a visitor types
one, validated), escaped HTML, the customer's clock, kept in the ticket's history, once a minute."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from promptlink.infra.db import transaction
from promptlink.models import Conversation, Customer, Message, OutboxItem, Ticket, TicketEvent
from promptlink.services import agent_chat as chat_svc
from promptlink.services import transcripts as svc
from promptlink.services.auth import Principal
from promptlink.services.conversations import append_message
from promptlink.services.errors import InvalidInput
from sqlalchemy import select, update

from tests.backend.chat.data import ANA, NOW, anas_conversation, hand_off, staff


async def _send(sessions, cid: str, email=None, now=NOW) -> svc.TranscriptSent:
    async with transaction(sessions) as session:
        return await svc.send_transcript(session=session, conversation_id=cid, email=email, now=now)


async def _outbox(sessions) -> list[OutboxItem]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxItem).where(OutboxItem.kind == "email").order_by(OutboxItem.id)))


async def _ended_chat_with_ticket(sessions) -> str:
    async with transaction(sessions) as session:
        customer = await session.scalar(select(Customer).where(Customer.code == "CABLEANDINA"))
        session.add(
            Ticket(
                number="PL-2026-000555",
                customer_id=customer.id,
                channel="chat",
                type="network_outage",
                title="Enlace caído",
                priority=2,
                tier="L2",
                next_update_due=NOW + timedelta(hours=2),
            )
        )
    cid = await anas_conversation(sessions, first="Mi enlace <b>no</b> funciona & no sé")
    async with transaction(sessions) as session:
        await append_message(session=session, conversation_id=cid, role="bot", text="Lo comunico con un especialista.")
    await hand_off(sessions, cid, "L2", ticket="PL-2026-000555")
    diego = await staff(sessions, "l2@promptlink.example")
    async with transaction(sessions) as session:
        await chat_svc.claim(session=session, conversation_id=cid, principal=diego, now=NOW)
    async with transaction(sessions) as session:
        await append_message(
            session=session,
            conversation_id=cid,
            role="agent",
            text="Reinicie el equipo.",
            author_name="Diego Nivel Dos",
        )
    # Stored times are «now» of the database: pin them to 15:00 UTC for the customer's clock (Bogotá, UTC-5).
    async with transaction(sessions) as session:
        await session.execute(update(Message).where(Message.conversation_id == cid).values(created_at=NOW))
    customer = Principal(role="customer", email="", name="", conversation_id=cid)
    async with transaction(sessions) as session:
        await chat_svc.close(session=session, conversation_id=cid, principal=customer, resolution=None, now=NOW)
    return cid


async def test_the_ended_chat_goes_to_the_contact_and_into_the_ticket_history(seeded) -> None:
    cid = await _ended_chat_with_ticket(seeded)
    sent = await _send(seeded, cid, email="otra.persona@example.com")  # a known contact: their own address
    assert (sent.to, sent.ticket) == (ANA, "PL-2026-000555")

    [mail] = await _outbox(seeded)
    assert mail.recipient == ANA and "PL-2026-000555" in mail.subject
    assert "[25/11/2026 10:00] Usted:\n  Mi enlace <b>no</b> funciona & no sé" in mail.body
    assert "Asistente:\n  Lo comunico con un especialista." in mail.body
    assert "Diego Nivel Dos:\n  Reinicie el equipo." in mail.body
    assert "(hora de Bogotá)" in mail.body
    assert mail.html is not None
    assert "Mi enlace &lt;b&gt;no&lt;/b&gt; funciona &amp; no sé" in mail.html and "<b>no</b>" not in mail.html
    assert "<strong>Diego Nivel Dos:</strong>" in mail.html

    async with seeded() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.number == "PL-2026-000555"))
        [entry] = await session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "transcript_sent")
        )
    assert entry.text.startswith(f"Transcripción del chat enviada por correo a {ANA}.")
    assert "Reinicie el equipo." in entry.text
    assert entry.data == {"to": ANA, "conversation_id": cid, "sent": True}
    assert entry.public is False


async def test_one_request_a_minute(seeded) -> None:
    cid = await _ended_chat_with_ticket(seeded)
    await _send(seeded, cid)
    with pytest.raises(svc.TranscriptTooSoon) as refused:
        await _send(seeded, cid, now=NOW + timedelta(seconds=59))
    assert refused.value.public.startswith("Ya le enviamos la conversación hace un momento.")
    await _send(seeded, cid, now=NOW + timedelta(seconds=61))
    assert len(await _outbox(seeded)) == 2


async def test_not_before_the_end(seeded) -> None:
    cid = await anas_conversation(seeded, first="hola")
    with pytest.raises(svc.TranscriptRefused) as refused:
        await _send(seeded, cid)
    assert refused.value.public == "Podrá recibir la conversación por correo cuando haya terminado."
    assert await _outbox(seeded) == []


async def test_an_anonymous_visitor_types_a_valid_address(seeded) -> None:
    cid = str(uuid.uuid4())
    async with transaction(seeded) as session:
        session.add(Conversation(id=cid, mode="closed"))
        await session.flush()
        await append_message(session=session, conversation_id=cid, role="customer", text="hola")
    with pytest.raises(svc.EmailNeeded) as needed:
        await _send(seeded, cid)
    assert needed.value.public == "Indique su correo electrónico." and needed.value.fields() == {"need_email": True}
    for bad in ("no-es-un-correo", "a@b", "x" * 250 + "@example.com", 42):
        with pytest.raises(InvalidInput) as invalid:
            await _send(seeded, cid, email=bad)
        assert invalid.value.public.startswith("El correo electrónico no es válido")
    assert await _outbox(seeded) == []
    sent = await _send(seeded, cid, email=" visitante@example.com ")
    assert sent.to == "visitante@example.com" and sent.ticket is None
    [mail] = await _outbox(seeded)
    assert mail.recipient == "visitante@example.com" and "UTC" in mail.body
