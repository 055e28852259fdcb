"""Alarm correlation on both databases: fold, clear, flapping, escalation, who is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from promptlink.infra.db import transaction
from promptlink.models import Alarm, AuditLog, Contact, Conversation, Device, Message, Ticket, TicketEvent
from promptlink.services.alarm_assignment import AlreadyAssigned, assign_alarm
from promptlink.services.alarm_notices import deliver_due_notices
from promptlink.services.alarms import (
    AlarmSignal,
    DeviceRef,
    Outcome,
    apply_signal,
    open_alarms,
)
from promptlink.services.conversations import append_message, open_conversation
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.identity import WidgetIdentity
from promptlink.services.trap_rules import RulesFile
from sqlalchemy import func, select

LINK_DOWN, LINK_UP = "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.4"
T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
RULES = RulesFile().rules


async def _device(sessions, name: str) -> DeviceRef:
    async with sessions() as session:
        d = await session.scalar(select(Device).where(Device.name == name))
    return DeviceRef(d.id, d.customer_id, d.name, d.mgmt_address)


def _signal(device: DeviceRef | None, trap: str, at: datetime, *, if_index: int = 1, count: int = 1) -> AlarmSignal:
    varbinds = {f"1.3.6.1.2.1.2.2.1.1.{if_index}": str(if_index)}
    match = RULES.match(trap, varbinds)
    assert match is not None
    who = f"device:{device.id}" if device else "address:127.0.0.99"
    return AlarmSignal(
        key=f"{who}|{match.key_suffix}",
        match=match,
        device=device,
        source=device.address if device else "127.0.0.99",
        trap_oid=trap,
        varbinds=varbinds,
        first_at=at,
        last_at=at,
        count=count,
    )


async def _apply(sessions, *signals: AlarmSignal) -> Outcome:
    """Apply `signals`, then send the notices due once the wave is quiet (their messages in the outcome)."""
    outcome = Outcome()
    async with transaction(sessions) as session:
        for signal in signals:
            await apply_signal(
                session=session, signal=signal, correlation=RULES.correlation, now=signal.last_at, outcome=outcome
            )
    quiet = signals[-1].last_at + timedelta(seconds=RULES.correlation.notice_max_wait_seconds)
    async with transaction(sessions) as session:
        outcome.messages += await deliver_due_notices(session=session, now=quiet)
    return outcome


async def test_repeats_inside_the_window_fold_and_outside_it_open_a_new_ticket(seeded) -> None:
    dev = await _device(seeded, "cmts-bog-01")
    await _apply(seeded, _signal(dev, LINK_DOWN, T0))
    folded = await _apply(seeded, _signal(dev, LINK_DOWN, T0 + timedelta(minutes=5), count=41))
    assert folded.folded == 41 and folded.tickets == 0 and folded.messages == []
    async with seeded() as session:
        alarm = await session.scalar(select(Alarm))
    assert alarm.count == 42 and alarm.last_seen == T0 + timedelta(minutes=5) and alarm.first_seen == T0
    later = await _apply(seeded, _signal(dev, LINK_DOWN, T0 + timedelta(hours=3)))
    assert later.tickets == 1
    async with seeded() as session:
        states = [a.state for a in await session.scalars(select(Alarm).order_by(Alarm.id))]
    assert states == ["cleared", "open"]


async def test_flapping_is_one_ticket_marked_intermittent_that_stays_open(seeded) -> None:
    dev = await _device(seeded, "cmts-bog-01")
    signals = []
    for cycle in range(3):
        at = T0 + timedelta(minutes=2 * cycle)
        signals += [_signal(dev, LINK_DOWN, at), _signal(dev, LINK_UP, at + timedelta(seconds=30))]
    for signal in signals:
        await _apply(seeded, signal)
    async with seeded() as session:
        alarms = list(await session.scalars(select(Alarm)))
        tickets = list(await session.scalars(select(Ticket)))
        notices = list(await session.scalars(select(TicketEvent.text).where(TicketEvent.kind == "proactive_notice")))
    assert len(alarms) == 1 and len(tickets) == 1
    alarm, ticket = alarms[0], tickets[0]
    assert alarm.flapping and alarm.cycles == 2 and alarm.count == 3 and alarm.state == "cleared"
    assert ticket.title.startswith("[Intermitente]") and ticket.is_open
    # Detected, detected again, then intermittent: three notices, not one per trap.
    assert len(notices) == 3 and "intermitente" in notices[-1]


async def test_most_of_a_customers_devices_down_raises_the_priority(seeded) -> None:
    first, second = await _device(seeded, "cmts-bog-01"), await _device(seeded, "cmts-bog-02")
    await _apply(seeded, _signal(first, LINK_DOWN, T0))
    async with seeded() as session:
        assert (await session.scalar(select(Ticket.priority))) == 2
    # Two minutes apart: not one wave (customer_group_seconds), two tickets.
    await _apply(seeded, _signal(second, LINK_DOWN, T0 + timedelta(minutes=2)))
    async with seeded() as session:
        tickets = list(await session.scalars(select(Ticket).order_by(Ticket.id)))
        raised = await session.scalar(select(TicketEvent).where(TicketEvent.kind == "priority_changed"))
    # A link down (P2) is already Level 3's; the second device's, raised to P1, too.
    assert [t.priority for t in tickets] == [1, 1] and [t.tier for t in tickets] == ["L3", "L3"]
    assert raised is not None and raised.ticket_id == tickets[0].id and "2 de 2 equipos" in raised.text


async def test_the_customer_reads_dates_in_words_and_counts_in_spanish(seeded) -> None:
    dev = await _device(seeded, "cmts-bog-01")
    opened = await _apply(seeded, _signal(dev, LINK_DOWN, T0))
    await _apply(seeded, _signal(dev, LINK_DOWN, T0 + timedelta(minutes=2)))
    await _apply(seeded, _signal(dev, LINK_UP, T0 + timedelta(minutes=20)))
    notice = opened.messages[0].text
    assert "el 25 de noviembre de 2026, 10:00 (hora de Bogotá)" in notice
    assert "a más tardar el 25 de noviembre de 2026, 18:00" in notice  # P2: the end of Bogotá's business day
    assert "/2026" not in notice
    async with seeded() as session:
        resolved = await session.scalar(select(TicketEvent).where(TicketEvent.kind == "status_changed"))
    assert resolved.public and resolved.text.startswith("Estado: nuevo → resuelto.")
    assert "el 25 de noviembre de 2026, 10:20 (hora de Bogotá). La alarma (2 avisos)" in resolved.text


async def test_unknown_equipment_has_no_ticket_and_is_not_a_customers_alarm(seeded) -> None:
    outcome = await _apply(seeded, _signal(None, LINK_DOWN, T0))
    assert outcome.opened == 1 and outcome.tickets == 0 and outcome.messages == []
    async with seeded() as session:
        alarm = await session.scalar(select(Alarm))
        assert alarm.customer_id is None and alarm.ticket_id is None
        dev = await _device(seeded, "cmts-bog-01")
        assert await open_alarms(session=session, customer_id=dev.customer_id) == []


async def test_the_notice_reaches_each_contacts_latest_chat_and_waits_for_the_next_visit(seeded) -> None:
    dev = await _device(seeded, "cmts-bog-01")
    async with seeded() as session:
        luis = await session.scalar(select(Contact).where(Contact.email == "luis.perez@cableandina.example"))
        ana = await session.scalar(select(Contact).where(Contact.email == "ana.gomez@cableandina.example"))
    ana_id = WidgetIdentity(
        contact_id=ana.id, email=ana.email, name=ana.name, customer_id=ana.customer_id,
        customer_code="CABLEANDINA", customer_name="Cable Andina S.A.",
    )  # fmt: skip
    async with transaction(seeded) as session:
        old = Conversation(id="luis-old", customer_id=luis.customer_id, contact_id=luis.id, last_seq=0, mode="bot")
        session.add(old)
        await session.flush()
        await append_message(session=session, conversation_id="luis-old", role="customer", text="hola")
        new = Conversation(id="luis-new", customer_id=luis.customer_id, contact_id=luis.id, last_seq=0, mode="bot")
        new.updated_at = datetime.now(UTC) + timedelta(minutes=1)
        session.add(new)
    outcome = await _apply(seeded, _signal(dev, LINK_DOWN, T0))
    # Luis has chats: his latest gets it. Ana has none: nothing to post into (she gets the e-mail).
    assert [m.conversation_id for m in outcome.messages] == ["luis-new"]
    async with transaction(seeded) as session:
        conversation = await open_conversation(
            session=session, identity=ana_id, conversation_id=None, resume_grant=None
        )
        assert conversation.id not in ("luis-new", "luis-old")
    # Luis comes back from another browser (no conversation id): the notice is shown.
    luis_id = WidgetIdentity(
        contact_id=luis.id, email=luis.email, name=luis.name, customer_id=luis.customer_id,
        customer_code="CABLEANDINA", customer_name="Cable Andina S.A.",
    )  # fmt: skip
    async with transaction(seeded) as session:
        visit = await open_conversation(session=session, identity=luis_id, conversation_id=None, resume_grant=None)
        shown = await session.scalar(select(Message.text).where(Message.conversation_id == visit.id))
    assert visit.id == "luis-new" and "cmts-bog-01" in shown
    # Once Luis answered, a fresh visit starts a fresh conversation as before.
    async with transaction(seeded) as session:
        await append_message(session=session, conversation_id="luis-new", role="customer", text="gracias")
    async with transaction(seeded) as session:
        again = await open_conversation(session=session, identity=luis_id, conversation_id=None, resume_grant=None)
    assert again.id not in ("luis-new", "luis-old")


# --- Level 1 assigns unknown equipment -------------------------------------------------


async def _assign(sessions, alarm_id: int, device: object, at: datetime = T0) -> tuple[Alarm, Outcome]:
    outcome = Outcome()
    async with transaction(sessions) as session:
        alarm = await assign_alarm(
            session=session,
            alarm_id=alarm_id,
            device_name=device,
            rules=RULES,
            actor="l1@promptlink.example",
            now=at,
            outcome=outcome,
        )
    return alarm, outcome


async def test_assigning_unknown_equipment_opens_the_tickets_tells_the_customer_and_remembers_the_address(
    seeded,
) -> None:
    # Two alarms from the unknown address (two interfaces), one of them cleared since.
    await _apply(seeded, _signal(None, LINK_DOWN, T0, if_index=1), _signal(None, LINK_DOWN, T0, if_index=2))
    await _apply(seeded, _signal(None, LINK_UP, T0 + timedelta(minutes=1), if_index=2))
    async with transaction(seeded) as session:  # Ana has a chat: the notice goes there
        ana = await session.scalar(select(Contact).where(Contact.email == "ana.gomez@cableandina.example"))
        session.add(Conversation(id="ana-chat", customer_id=ana.customer_id, contact_id=ana.id, last_seq=0, mode="bot"))
    async with seeded() as session:
        first = await session.scalar(select(Alarm).where(Alarm.state == "open"))
    alarm, outcome = await _assign(seeded, first.id, "cmts-bog-02", T0 + timedelta(minutes=5))

    dev = await _device(seeded, "cmts-bog-02")
    assert dev.address == "127.0.0.99"  # later traps from it find the customer
    assert outcome.tickets == 1  # only the alarm still open
    assert [m.conversation_id for m in outcome.messages] == ["ana-chat"]
    assert "Aviso de monitoreo: su equipo cmts-bog-02 (127.0.0.99)" in outcome.messages[0].text
    async with seeded() as session:
        alarms = list(await session.scalars(select(Alarm).order_by(Alarm.id)))
        assert [(a.device_id, a.customer_id) for a in alarms] == [(dev.id, dev.customer_id)] * 2
        assert await open_alarms(session=session, customer_id=dev.customer_id) == [alarms[0]]
        ticket = await session.get(Ticket, alarms[0].ticket_id)
        assert alarms[1].ticket_id is None
        assert (ticket.channel, ticket.type, ticket.device_id, ticket.priority) == (
            "snmp",
            "network_outage",
            dev.id,
            alarms[0].priority,
        )
        assert "l1@promptlink.example lo asignó a cmts-bog-02" in ticket.description
        # Counted and dated in Spanish words on the customer's clock (15:00 UTC is 10:00 in Bogotá).
        assert "1 aviso desde el 25 de noviembre de 2026, 10:00 (hora de Bogotá)." in ticket.description
        kinds = [e.kind for e in await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))]
        assert "proactive_notice" in kinds
        audit = await session.scalar(select(AuditLog).where(AuditLog.action == "alarm.assign"))
        assert audit.actor == "l1@promptlink.example" and audit.detail["previous_address"] == "127.0.0.22"
        assert audit.detail["alarms"] == [a.id for a in alarms]


async def test_assigning_refuses_bad_input_and_changes_nothing(seeded) -> None:
    await _apply(seeded, _signal(None, LINK_DOWN, T0))
    async with seeded() as session:
        alarm = await session.scalar(select(Alarm))
    for device, error, public in [
        ("", InvalidInput, "Indique el nombre del equipo."),
        (None, InvalidInput, "Indique el nombre del equipo."),
        ("x" * 101, InvalidInput, "Indique el nombre del equipo."),
        ("no-existe-01", InvalidInput, "El equipo no existe."),
    ]:
        with pytest.raises(error) as refused:
            await _assign(seeded, alarm.id, device)
        assert refused.value.public == public
    with pytest.raises(NotFound):
        await _assign(seeded, alarm.id + 1000, "cmts-bog-01")
    async with seeded() as session:
        assert (await session.get(Alarm, alarm.id)).device_id is None
        assert (await _device(seeded, "cmts-bog-01")).address == "127.0.0.21"
    await _assign(seeded, alarm.id, "cmts-bog-01")
    with pytest.raises(AlreadyAssigned) as twice:
        await _assign(seeded, alarm.id, "olt-sdq-01")
    assert twice.value.status == 409
    async with seeded() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1  # no second ticket
