"""Alarm waves on both databases: one ticket per device wave, one P1 per customer wave, one notice
(chat and e-mail) per wave, held while the assistant's form question is open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from promptlink.chat.reply_writer import ReplyWriter
from promptlink.infra.clock import ManualClock
from promptlink.infra.db import transaction
from promptlink.models import (
    Alarm,
    AlarmNotice,
    Contact,
    Conversation,
    Device,
    Message,
    OutboxItem,
    Ticket,
    TicketEvent,
)
from promptlink.services.alarm_notices import NoticeSender
from promptlink.services.alarms import AlarmSignal, DeviceRef, Outcome, apply_signal
from promptlink.services.trap_rules import RulesFile
from sqlalchemy import func, select

from tests.backend.chat.data import anas_conversation

LINK_DOWN, LINK_UP = "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.4"
T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
RULES = RulesFile().rules
QUIET = timedelta(seconds=RULES.correlation.notice_quiet_seconds)
ANA = "ana.gomez@cableandina.example"


async def _device(sessions, name: str) -> DeviceRef:
    async with sessions() as session:
        d = await session.scalar(select(Device).where(Device.name == name))
    return DeviceRef(d.id, d.customer_id, d.name, d.mgmt_address)


def _signal(device: DeviceRef, trap: str, at: datetime, if_index: int) -> AlarmSignal:
    varbinds = {f"1.3.6.1.2.1.2.2.1.1.{if_index}": str(if_index)}
    match = RULES.match(trap, varbinds)
    assert match is not None
    return AlarmSignal(
        key=f"device:{device.id}|{match.key_suffix}",
        match=match,
        device=device,
        source=device.address,
        trap_oid=trap,
        varbinds=varbinds,
        first_at=at,
        last_at=at,
    )


async def _apply(sessions, clock: ManualClock, signal: AlarmSignal) -> Outcome:
    """One signal in its own transaction (as the worker's chunks), at the clock's time."""
    outcome = Outcome()
    clock.set(signal.last_at)
    async with transaction(sessions) as session:
        await apply_signal(
            session=session, signal=signal, correlation=RULES.correlation, now=clock.now(), outcome=outcome
        )
    return outcome


class Emitted:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)


async def _count(sessions, model, *where) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _emails(sessions) -> list[OutboxItem]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxItem).where(OutboxItem.kind == "email").order_by(OutboxItem.id)))


async def test_twenty_interfaces_of_one_device_are_one_ticket_one_chat_message_and_one_email(seeded) -> None:
    dev = await _device(seeded, "cmts-bog-01")
    chat = await anas_conversation(seeded, first="hola")
    clock, emitted = ManualClock(T0), Emitted()
    sender = NoticeSender(sessions=seeded, clock=clock, emit=emitted)
    for i in range(1, 21):  # one linkDown a second, interfaces 1..20
        await _apply(seeded, clock, _signal(dev, LINK_DOWN, T0 + timedelta(seconds=i), i))
        assert await sender.run_once() == []  # the wave is still growing: nothing yet
    clock.advance(QUIET)
    sent = await sender.run_once()
    assert [m.conversation_id for m in sent] == [chat] and emitted.messages == sent
    assert await sender.run_once() == []  # once
    async with seeded() as session:
        tickets = list(await session.scalars(select(Ticket)))
        alarms = list(await session.scalars(select(Alarm)))
    assert len(tickets) == 1 and len(alarms) == 20 and {a.ticket_id for a in alarms} == {tickets[0].id}
    ticket = tickets[0]
    assert ticket.title == "Enlace caído en cmts-bog-01 (interfaz 1) y 19 alarmas más"
    for i in range(1, 21):
        assert f"la interfaz {i} dejó de funcionar" in ticket.description
        assert f"la interfaz {i} dejó de funcionar" in sent[0].text
    assert sent[0].text.startswith("Aviso de monitoreo: desde el 25 de noviembre de 2026, 10:00")
    assert f"Tiquete {ticket.number} (prioridad P2" in sent[0].text
    emails = await _emails(seeded)
    assert [e.recipient for e in emails] == [ANA]  # Ana is the notification party; one e-mail
    assert emails[0].body.startswith(sent[0].text) and ticket.number in emails[0].subject
    assert await _count(seeded, TicketEvent, TicketEvent.kind == "proactive_notice") == 1
    assert await _count(seeded, TicketEvent, TicketEvent.kind == "alarm_grouped") == 19

    # Clearing some is recorded; the ticket stays open until the last one clears.
    for i in range(1, 20):
        await _apply(seeded, clock, _signal(dev, LINK_UP, T0 + timedelta(minutes=5, seconds=i), i))
    async with seeded() as session:
        ticket = await session.get(Ticket, ticket.id)
        assert ticket.is_open
    assert await _count(seeded, TicketEvent, TicketEvent.kind == "alarm_cleared") == 19
    await _apply(seeded, clock, _signal(dev, LINK_UP, T0 + timedelta(minutes=6), 20))
    async with seeded() as session:
        assert (await session.get(Ticket, ticket.id)).status == "resolved"


async def test_three_devices_of_one_customer_are_one_p1_ticket_and_one_notice(seeded) -> None:
    async with transaction(seeded) as session:
        first = await session.scalar(select(Device).where(Device.name == "cmts-bog-01"))
        session.add(
            Device(
                customer_id=first.customer_id,
                name="cmts-bog-03",
                serial="PLK-CMTS-0003",
                model="PL-CMTS 3200",
                mgmt_address="127.0.0.23",
            )
        )
    devices = [await _device(seeded, f"cmts-bog-0{n}") for n in (1, 2, 3)]
    clock, emitted = ManualClock(T0), Emitted()
    sender = NoticeSender(sessions=seeded, clock=clock, emit=emitted)
    await anas_conversation(seeded, first="hola")
    for n, dev in enumerate(devices):
        await _apply(seeded, clock, _signal(dev, LINK_DOWN, T0 + timedelta(seconds=2 * n), 7))
    clock.advance(QUIET)
    sent = await sender.run_once()
    async with seeded() as session:
        tickets = list(await session.scalars(select(Ticket)))
    assert len(tickets) == 1 and tickets[0].priority == 1 and tickets[0].tier == "L3"
    assert len(sent) == 1 and len(await _emails(seeded)) == 1
    for dev in devices:
        assert f"{dev.name} ({dev.address}): el enlace de la interfaz 7" in sent[0].text
        assert dev.name in tickets[0].description
    assert "prioridad P1" in sent[0].text
    raised = await _count(seeded, TicketEvent, TicketEvent.kind == "priority_changed")
    assert raised == 1  # P2 → P1 once, when the third device made it most of the customer's equipment


async def test_a_notice_waits_for_the_open_form_question_and_arrives_once_after_the_answer(seeded) -> None:
    dev = await _device(seeded, "cmts-bog-01")
    chat = await anas_conversation(seeded)
    writer = ReplyWriter(seeded)
    try:
        # Ana is in the incident form: the assistant asked a question (Rasa's active loop after the turn).
        line, _, _ = await writer.submit_customer(
            conversation_id=chat, text="quiero reportar una falla", client_msg_id=None, payload=None
        )
        await writer.submit_bot_turn(
            conversation_id=chat,
            message_id=line.id,
            intent="report_incident",
            confidence=0.98,
            replies=[("¿Cuál es el código de su empresa?", None)],
            form="incident_form",
        )
        clock, emitted = ManualClock(T0), Emitted()
        sender = NoticeSender(sessions=seeded, clock=clock, emit=emitted)
        await _apply(seeded, clock, _signal(dev, LINK_DOWN, T0, 1))
        clock.advance(QUIET * 3)
        assert await sender.run_once() == []  # held: the question is open
        await _apply(seeded, clock, _signal(dev, LINK_DOWN, clock.now(), 2))  # the wave grows meanwhile
        clock.advance(QUIET * 3)
        assert await sender.run_once() == []
        assert await _emails(seeded) == []  # the e-mail is the same message: it waits too
        async with seeded() as session:
            assert (await session.get(Conversation, chat)).bot_form == "incident_form"

        answer, _, _ = await writer.submit_customer(
            conversation_id=chat, text="CABLEANDINA", client_msg_id=None, payload=None
        )
        reply = await writer.submit_bot_turn(
            conversation_id=chat,
            message_id=answer.id,
            intent="inform",
            confidence=0.9,
            replies=[("Gracias, registré su reporte.", None)],
            form=None,
        )
    finally:
        writer.close()
    sent = await sender.run_once()
    assert len(sent) == 1 and sent[0].conversation_id == chat and sent[0].seq > reply[0].seq
    assert "la interfaz 1 dejó de funcionar" in sent[0].text and "la interfaz 2 dejó de funcionar" in sent[0].text
    assert await sender.run_once() == [] and len(await _emails(seeded)) == 1
    assert await _count(seeded, AlarmNotice, AlarmNotice.state == "sent") == 1
    assert await _count(seeded, Message, Message.conversation_id == chat, Message.role == "system") == 1


async def test_a_form_left_open_holds_the_notice_only_so_long(seeded) -> None:
    dev = await _device(seeded, "cmts-bog-01")
    async with transaction(seeded) as session:
        ana = await session.scalar(select(Contact).where(Contact.email == ANA))
        left = Conversation(id="left-mid-form", customer_id=ana.customer_id, contact_id=ana.id, last_seq=0)
        left.mode, left.bot_form, left.updated_at = "bot", "incident_form", T0
        session.add(left)
    clock = ManualClock(T0)
    sender = NoticeSender(sessions=seeded, clock=clock, emit=None)
    await _apply(seeded, clock, _signal(dev, LINK_DOWN, T0, 1))
    clock.advance(QUIET)
    assert await sender.run_once() == []
    clock.advance(timedelta(minutes=RULES.correlation.notice_hold_max_minutes))
    sent = await sender.run_once()
    assert [m.conversation_id for m in sent] == ["left-mid-form"] and len(await _emails(seeded)) == 1


async def test_twenty_interfaces_coming_back_after_clearing_are_one_notice_not_twenty(seeded) -> None:
    """The device bounces: down, up (resolved), down again within the flapping window. The second
    wave reopens the ticket and is told once, one line per interface, like the first."""
    dev = await _device(seeded, "cmts-bog-01")
    chat = await anas_conversation(seeded, first="hola")
    clock, emitted = ManualClock(T0), Emitted()
    sender = NoticeSender(sessions=seeded, clock=clock, emit=emitted)
    for i in range(1, 21):
        await _apply(seeded, clock, _signal(dev, LINK_DOWN, T0 + timedelta(seconds=i), i))
    clock.advance(QUIET)
    assert len(await sender.run_once()) == 1
    for i in range(1, 21):
        await _apply(seeded, clock, _signal(dev, LINK_UP, T0 + timedelta(minutes=1, seconds=i), i))
    async with seeded() as session:
        ticket = await session.scalar(select(Ticket))
        assert ticket.status == "resolved"
    emails_before = len(await _emails(seeded))
    notices_before = await _count(seeded, TicketEvent, TicketEvent.kind == "proactive_notice")

    again = T0 + timedelta(minutes=2)
    for i in range(1, 21):
        outcome = await _apply(seeded, clock, _signal(dev, LINK_DOWN, again + timedelta(seconds=i), i))
        assert outcome.messages == []  # nothing one by one
        assert await sender.run_once() == []  # the wave is still growing
    async with seeded() as session:
        assert (await session.get(Ticket, ticket.id)).is_open  # reopened for the alarms that came back
    clock.advance(QUIET)
    sent = await sender.run_once()
    assert [m.conversation_id for m in sent] == [chat]
    text = sent[0].text
    assert text.startswith("Aviso de monitoreo: 20 alarmas de sus equipos volvieron a activarse tras despejarse:")
    assert text.count("se detectó de nuevo") == 20 and text.count(ticket.number) == 20
    for i in range(1, 21):
        assert f"(interfaz {i})" in text or f"interfaz {i}»" in text
    emails = (await _emails(seeded))[emails_before:]
    assert [e.recipient for e in emails] == [ANA] and emails[0].body.startswith(text)
    assert await _count(seeded, TicketEvent, TicketEvent.kind == "proactive_notice") == notices_before + 1
    assert await sender.run_once() == []  # once


async def test_an_alarm_back_before_its_first_notice_went_is_told_once_as_detected(seeded) -> None:
    dev = await _device(seeded, "cmts-bog-01")
    chat = await anas_conversation(seeded, first="hola")
    clock, emitted = ManualClock(T0), Emitted()
    sender = NoticeSender(sessions=seeded, clock=clock, emit=emitted)
    await _apply(seeded, clock, _signal(dev, LINK_DOWN, T0, 4))
    await _apply(seeded, clock, _signal(dev, LINK_UP, T0 + timedelta(seconds=1), 4))
    await _apply(seeded, clock, _signal(dev, LINK_DOWN, T0 + timedelta(seconds=2), 4))
    clock.advance(QUIET)
    sent = await sender.run_once()
    assert [m.conversation_id for m in sent] == [chat]
    assert sent[0].text.startswith("Aviso de monitoreo: en su equipo cmts-bog-01")
    assert "de nuevo" not in sent[0].text
    assert await sender.run_once() == []
