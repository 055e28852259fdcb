"""What an alarm tells the customer: the proactive notice in its chats and by e-mail.

New alarms, and alarms that come back after clearing, are not announced one by one: each joins
its customer's pending notice (`AlarmNotice`, one per wave), which is sent once, a quiet time
after the wave's latest alarm (`notice_quiet_seconds`, at most `notice_max_wait_seconds` after
its first): one chat message per contact's chat and one e-mail per notification party listing
what is down.
While one of the customer's chats has the assistant's form question open (`Conversation.bot_form`,
Rasa's active loop after its last turn) the notice waits, at most `notice_hold_max_minutes`,
and arrives with everything the wave gathered once the question is answered.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from promptlink.infra.clock import Clock
from promptlink.infra.db import transaction
from promptlink.models import Alarm, AlarmNotice, Contact, Conversation, Customer, Message, Ticket
from promptlink.services.conversations import PROACTIVE_AUTHOR, append_message
from promptlink.services.notifications import notification_parties
from promptlink.services.outbox import enqueue_email
from promptlink.services.spanish import datetime_in_words, plural, zone_in_words
from promptlink.services.ticket_events import log_event
from promptlink.vocabulary import CADENCE_TEXT, TIER_NAMES

AUTHOR = "snmp"  # the history's author of what monitoring does
log = logging.getLogger(__name__)


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


# --- One notice per wave ---------------------------------------------------------------


async def queue_notice(
    session: AsyncSession, alarm: Alarm, customer_id: int, now: datetime, *, quiet: float, max_wait: float, hold: float
) -> AlarmNotice:
    """Add `alarm` to its customer's pending notice (a new one when none is pending).

    The notice is due `quiet` seconds after this alarm, at most `max_wait` seconds after the
    wave's first; it may wait for a form question until `hold` minutes after that. The pending
    notice is moved by a compare-and-set (only while it is still pending), so an alarm never joins
    a notice another process has just sent: it starts the next one instead.
    """
    notice = await session.scalar(
        select(AlarmNotice)
        .where(AlarmNotice.customer_id == customer_id, AlarmNotice.state == "pending")
        .order_by(AlarmNotice.id.desc())
        .limit(1)
    )
    if notice is not None:
        due = max(notice.due_at, min(now + timedelta(seconds=quiet), notice.created_at + timedelta(seconds=max_wait)))
        moved = await session.execute(
            update(AlarmNotice)
            .where(AlarmNotice.id == notice.id, AlarmNotice.state == "pending")
            .values(due_at=due, hold_until=due + timedelta(minutes=hold))
            .execution_options(synchronize_session=False)
        )
        if getattr(moved, "rowcount", 0) == 1:
            notice.due_at, notice.hold_until = due, due + timedelta(minutes=hold)
        else:
            notice = None
    if notice is None:
        due = now + timedelta(seconds=quiet)
        notice = AlarmNotice(
            customer_id=customer_id,
            state="pending",
            created_at=now,
            due_at=due,
            hold_until=due + timedelta(minutes=hold),
        )
        session.add(notice)
        await session.flush()
    alarm.notice_id = notice.id
    return notice


async def notice_pending(session: AsyncSession, alarm: Alarm) -> bool:
    """Whether `alarm` is in a notice that has not been sent yet."""
    if alarm.notice_id is None:
        return False
    state = await session.scalar(select(AlarmNotice.state).where(AlarmNotice.id == alarm.notice_id))
    return state == "pending"


async def form_open(session: AsyncSession, customer_id: int, since: datetime) -> bool:
    """Whether one of the customer's chats with the assistant has a form question open (and was
    active since `since`: a chat left in the middle of a form does not hold notices forever)."""
    found = await session.scalar(
        select(Conversation.id)
        .where(
            Conversation.customer_id == customer_id,
            Conversation.mode == "bot",
            Conversation.bot_form.is_not(None),
            Conversation.updated_at >= since,
        )
        .limit(1)
    )
    return found is not None


async def deliver_due_notices(*, session: AsyncSession, now: datetime, limit: int = 50) -> list[Message]:
    """Send every pending notice that is due and not held by an open form question.

    Each is claimed by a compare-and-set (pending → sent) in this transaction: sent once even
    with several processes. Returns the chat messages written (the caller emits them after the commit).
    """
    due = list(
        await session.scalars(
            select(AlarmNotice)
            .where(AlarmNotice.state == "pending", AlarmNotice.due_at <= now)
            .order_by(AlarmNotice.id)
            .limit(limit)
        )
    )
    messages: list[Message] = []
    for notice in due:
        if await _held(session, notice, now):
            continue
        claimed = await session.execute(
            update(AlarmNotice)
            .where(AlarmNotice.id == notice.id, AlarmNotice.state == "pending")
            .values(state="sent", sent_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            continue
        notice.state, notice.sent_at = "sent", now
        messages += await _send_notice(session, notice, now)
    return messages


async def _held(session: AsyncSession, notice: AlarmNotice, now: datetime) -> bool:
    """Whether the due `notice` waits for a form question (never past its `hold_until`)."""
    return now < notice.hold_until and await form_open(
        session, notice.customer_id, now - (notice.hold_until - notice.due_at)
    )


async def _sendable(session: AsyncSession, now: datetime, limit: int = 50) -> bool:
    due = await session.scalars(
        select(AlarmNotice)
        .where(AlarmNotice.state == "pending", AlarmNotice.due_at <= now)
        .order_by(AlarmNotice.id)
        .limit(limit)
    )
    for notice in list(due):
        if not await _held(session, notice, now):
            return True
    return False


async def _send_notice(session: AsyncSession, notice: AlarmNotice, now: datetime) -> list[Message]:
    alarms = list(await session.scalars(select(Alarm).where(Alarm.notice_id == notice.id).order_by(Alarm.id)))
    customer = await session.get(Customer, notice.customer_id)
    by_ticket: dict[int, list[Alarm]] = {}
    for alarm in alarms:
        if alarm.ticket_id is not None:
            by_ticket.setdefault(alarm.ticket_id, []).append(alarm)
    if customer is None or not by_ticket:
        return []
    # A ticket resolved before the notice went (its alarms came and cleared within the quiet time) was
    # told by its resolution already.
    tickets = [t for t in [await session.get(Ticket, tid) for tid in by_ticket] if t is not None and t.is_open]
    if not tickets:
        return []
    if len(tickets) == 1 and len(by_ticket[tickets[0].id]) == 1:
        # One alarm: the notice as it always read.
        alarm, ticket = by_ticket[tickets[0].id][0], tickets[0]
        if alarm.notice_line is not None:
            return await tell_customer(session, ticket, customer, alarm.notice_line, now, subject="Alarma")
        lead = f"Aviso de monitoreo: en su equipo {_device_words(alarm)} {alarm.detected or alarm.title},"
        text = opened_notice(lead, alarm.first_seen, ticket, customer)
        return await tell_customer(session, ticket, customer, text, now, subject="Alarma detectada")
    # New alarms are listed with what was detected; alarms that came back after clearing by their own line.
    new: dict[int, list[Alarm]] = {}
    again: list[str] = []
    for ticket in tickets:
        for alarm in by_ticket[ticket.id]:
            if alarm.notice_line is None:
                new.setdefault(ticket.id, []).append(alarm)
            else:
                again.append(alarm.notice_line)
    parts = []
    if new:
        parts.append(wave_notice(customer, [t for t in tickets if t.id in new], new))
    if again:
        lead = "Además, " if new else "Aviso de monitoreo: "
        parts.append(
            lead
            + f"{plural(len(again), 'alarma', 'alarmas')} de sus equipos "
            + ("volvió" if len(again) == 1 else "volvieron")
            + " a activarse tras despejarse:\n"
            + "\n".join(f"- {line}" for line in again)
        )
    return await tell_wave(session, tickets, customer, "\n".join(parts), now)


def _device_words(alarm: Alarm) -> str:
    name = alarm.device.name if alarm.device else alarm.source_address
    return f"{name} ({alarm.source_address})"


def wave_notice(customer: Customer, tickets: list[Ticket], by_ticket: dict[int, list[Alarm]]) -> str:
    """One message for a wave: what is down per ticket (device, what was detected), the tickets
    and when the next update comes."""
    zone = customer.timezone
    first = min(a.first_seen for group in by_ticket.values() for a in group)
    count = sum(len(group) for group in by_ticket.values())
    lines = [
        f"Aviso de monitoreo: desde el {local_time(first, zone)} (hora de {zone_in_words(zone)}) detectamos "
        f"{plural(count, 'alarma', 'alarmas')} en sus equipos:"
    ]
    for ticket in tickets:
        per_device: dict[str, list[str]] = {}
        for alarm in by_ticket[ticket.id]:
            per_device.setdefault(_device_words(alarm), []).append(alarm.detected or alarm.title)
        what = "; ".join(f"{device}: {', '.join(found)}" for device, found in per_device.items())
        lines.append(
            f"- Tiquete {ticket.number} (prioridad P{ticket.priority}; lo atiende {TIER_NAMES[ticket.tier]}): {what}."
        )
    dues = [t.next_update_due for t in tickets if t.next_update_due is not None]
    urgent = min(t.priority for t in tickets)
    if dues:
        lines.append(
            f"Próxima actualización: a más tardar el {local_time(min(dues), zone)}, y luego {CADENCE_TEXT[urgent]}."
        )
    return "\n".join(lines)


async def tell_wave(
    session: AsyncSession, tickets: list[Ticket], customer: Customer, text: str, now: datetime
) -> list[Message]:
    """The wave's notice: one message per contact's chat, one e-mail per notification party, and the
    notice in each ticket's history."""
    messages = []
    targets = await _target_conversations(session, customer)
    for conversation_id in targets:
        appended = await append_message(
            session=session, conversation_id=conversation_id, role="system", text=text, author_name=PROACTIVE_AUTHOR
        )
        messages.append(appended.message)
    parties: dict[str, None] = {}
    for ticket in tickets:
        if ticket.conversation_id is None and targets:
            ticket.conversation_id = targets[0]
        parties.update(dict.fromkeys(await notification_parties(session=session, ticket=ticket)))
        log_event(session, ticket, now, "proactive_notice", AUTHOR, public=True, text=text)
    numbers = ", ".join(str(t.number) for t in tickets)
    for email in parties:
        enqueue_email(
            session=session,
            to=email,
            subject=f"[{numbers}] Alarmas detectadas en sus equipos"[:300],
            body=f"{text}\n\nSoporte Técnico Promptlink",
            now=now,
            ticket_id=tickets[0].id,
        )
    return messages


Emit = Callable[[Message], Awaitable[None]]


class NoticeSender:
    """Sends the due notices every `interval` seconds and emits their chat messages."""

    def __init__(
        self, *, sessions: async_sessionmaker[AsyncSession], clock: Clock, emit: Emit | None, interval: float = 1.0
    ) -> None:
        self.sessions, self.clock, self.emit, self.interval = sessions, clock, emit, interval

    async def run_once(self) -> list[Message]:
        now = self.clock.now()
        async with self.sessions() as session:  # a read first: the writer is taken only when one can go
            if not await _sendable(session, now):
                return []
        async with transaction(self.sessions) as session:
            messages = await deliver_due_notices(session=session, now=now)
        if self.emit is not None:
            for message in messages:
                try:
                    await self.emit(message)
                except Exception:  # noqa: BLE001 - stored already; the customer sees it on resume
                    log.warning("alarm notice not emitted", extra={"conversation_id": message.conversation_id})
        return messages

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("alarm notices failed")
            await asyncio.sleep(self.interval)


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
