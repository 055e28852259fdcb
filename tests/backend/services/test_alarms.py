"""Alarm correlation on both databases: fold, clear, flapping, escalation, who is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from promptlink.db import transaction
from promptlink.models import Alarm, Contact, Conversation, Device, Message, Ticket, TicketEvent
from promptlink.services.alarms import AlarmSignal, DeviceRef, Outcome, apply_signal, open_alarms
from promptlink.services.conversations import append_message, open_conversation
from promptlink.services.identity import WidgetIdentity
from promptlink.snmp.rules import RulesFile
from sqlalchemy import select

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
    outcome = Outcome()
    async with transaction(sessions) as session:
        for signal in signals:
            await apply_signal(
                session=session, signal=signal, correlation=RULES.correlation, now=signal.last_at, outcome=outcome
            )
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
    await _apply(seeded, _signal(second, LINK_DOWN, T0 + timedelta(minutes=1)))
    async with seeded() as session:
        tickets = list(await session.scalars(select(Ticket).order_by(Ticket.id)))
        raised = await session.scalar(select(TicketEvent).where(TicketEvent.kind == "priority_changed"))
    assert [t.priority for t in tickets] == [1, 1] and [t.tier for t in tickets] == ["L1", "L3"]
    assert raised is not None and raised.ticket_id == tickets[0].id and "2 de 2 equipos" in raised.text


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
