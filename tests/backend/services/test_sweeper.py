"""Reminders before an update is due and breaches after, on a controlled clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from promptlink.infra.clock import ManualClock
from promptlink.infra.db import create_engine, create_sessionmaker, transaction
from promptlink.models import Customer, OutboxItem, Ticket, TicketEvent
from promptlink.services import ticket_events, ticket_updates
from promptlink.services import tickets as svc
from promptlink.services.sweeper import sweep
from promptlink.services.ticket_rules import IncidentFacts
from sqlalchemy import select

LEAD = timedelta(minutes=30)
START = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # Wednesday 10:00 in Bogotá


async def _p1(sessions, clock: ManualClock, assignee: bool = False) -> str:
    async with transaction(sessions) as session:
        customer = await session.scalar(select(Customer).where(Customer.code == "CABLEANDINA"))
        draft = svc.TicketDraft(
            channel="phone",
            type="network_outage",
            title="Nodo caído",
            facts=IncidentFacts(production_down=True),
            customer_id=customer.id,
        )
        created = await svc.create_ticket(session=session, draft=draft, author="l3@promptlink.example", now=clock.now())
        return created.ticket.number


async def _sweep(sessions, clock: ManualClock):
    async with transaction(sessions) as session:
        return await sweep(
            session=session, now=clock.now(), reminder_lead=LEAD, fallback_supervisor="supervisor@promptlink.example"
        )


async def _events(sessions, number: str, kind: str) -> list[TicketEvent]:
    async with sessions() as session:
        ticket = await svc.get_ticket(session=session, number=number)
        return [e for e in await ticket_events.history(session=session, ticket=ticket) if e.kind == kind]


async def _mail_to(sessions, recipient: str, subject_part: str) -> list[OutboxItem]:
    async with sessions() as session:
        rows = await session.scalars(select(OutboxItem).where(OutboxItem.recipient == recipient))
        return [r for r in rows if subject_part in r.subject]


async def test_reminder_before_due_then_breach_escalates_once(seeded) -> None:
    clock = ManualClock(START)
    number = await _p1(seeded, clock)  # P1: due at START + 2 h
    assert (await _sweep(seeded, clock)).reminded == []
    clock.advance(timedelta(minutes=89))  # 31 min before due: not yet
    assert (await _sweep(seeded, clock)).reminded == []
    clock.advance(timedelta(minutes=2))  # 29 min before due
    result = await _sweep(seeded, clock)
    assert result.reminded == [number] and result.breached == []
    assert (await _sweep(seeded, clock)).reminded == []  # once per due time
    # Unassigned: the L3 agents are reminded.
    assert await _mail_to(seeded, "l3@promptlink.example", "pendiente")
    clock.advance(timedelta(minutes=29))  # exactly due
    result = await _sweep(seeded, clock)
    assert result.breached == [number]
    assert (await _sweep(seeded, clock)).breached == []
    breaches = await _events(seeded, number, "breach")
    assert len(breaches) == 1 and breaches[0].public is False
    assert await _mail_to(seeded, "supervisor@promptlink.example", "Escalamiento")
    async with seeded() as session:
        ticket = await svc.get_ticket(session=session, number=number)
        assert ticket.breach_count == 1


async def test_an_update_moves_the_due_time_and_resets_the_cycle(seeded) -> None:
    clock = ManualClock(START)
    number = await _p1(seeded, clock)
    clock.advance(timedelta(minutes=100))
    async with transaction(seeded) as session:
        ticket = await svc.get_ticket(session=session, number=number)
        await ticket_updates.post_update(
            session=session, ticket=ticket, text="Estamos revisando el nodo.", author="l3@x", now=clock.now()
        )
        assert ticket.next_update_due == clock.now() + timedelta(hours=2)
    clock.advance(timedelta(minutes=100))  # 20 min before the new due time
    assert (await _sweep(seeded, clock)).reminded == [number]
    clock.advance(timedelta(minutes=20))
    assert (await _sweep(seeded, clock)).breached == [number]


async def test_a_restart_between_due_and_sweep_still_records_the_breach_once(database_url, seeded) -> None:
    clock = ManualClock(START)
    number = await _p1(seeded, clock)
    clock.advance(timedelta(hours=2, minutes=10))  # due passed while "the backend was down"
    # A new engine and session factory: nothing survives from the previous process but the database.
    engine = create_engine(database_url)
    restarted = create_sessionmaker(engine)
    try:
        first = await _sweep(restarted, clock)
        assert first.breached == [number]
        assert first.reminded == []  # the reminder window was missed; the breach is what matters
        engine2 = create_engine(database_url)
        try:
            assert (await _sweep(create_sessionmaker(engine2), clock)).breached == []
        finally:
            await engine2.dispose()
    finally:
        await engine.dispose()
    assert len(await _events(seeded, number, "breach")) == 1


async def test_resolved_tickets_are_not_swept(seeded) -> None:
    clock = ManualClock(START)
    number = await _p1(seeded, clock)
    async with transaction(seeded) as session:
        ticket = await svc.get_ticket(session=session, number=number)
        await ticket_updates.change_status(
            session=session,
            ticket=ticket,
            status="resolved",
            resolution="Nodo restablecido",
            author="l3@x",
            now=clock.now(),
        )
        assert ticket.next_update_due is None
    clock.advance(timedelta(hours=5))
    result = await _sweep(seeded, clock)
    assert number not in result.breached and number not in result.reminded


async def test_p2_is_due_at_the_end_of_the_customers_business_day(seeded) -> None:
    clock = ManualClock(START)
    async with transaction(seeded) as session:
        customer = await session.scalar(select(Customer).where(Customer.code == "CABLEANDINA"))
        draft = svc.TicketDraft(
            channel="phone",
            type="network_outage",
            title="Degradación grave",
            facts=IncidentFacts(severely_damaged=True),
            customer_id=customer.id,
        )
        ticket = (await svc.create_ticket(session=session, draft=draft, author="x", now=clock.now())).ticket
        assert ticket.priority == 2
        assert ticket.next_update_due == datetime(2026, 11, 25, 23, 0, tzinfo=UTC)  # 18:00 Bogotá
        number = ticket.number
    clock.set(datetime(2026, 11, 25, 23, 1, tzinfo=UTC))
    assert number in (await _sweep(seeded, clock)).breached


async def test_the_assignee_is_reminded_when_there_is_one(seeded) -> None:
    from promptlink.models import Agent

    clock = ManualClock(START)
    number = await _p1(seeded, clock)
    async with transaction(seeded) as session:
        ticket = await svc.get_ticket(session=session, number=number)
        agent = await session.scalar(select(Agent).where(Agent.email == "l3@promptlink.example"))
        await ticket_updates.assign(session=session, ticket=ticket, agent=agent, author="supervisor", now=clock.now())
    clock.advance(timedelta(minutes=95))
    await _sweep(seeded, clock)
    async with seeded() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.reminded_for == ticket.next_update_due
    assert await _mail_to(seeded, "l3@promptlink.example", "pendiente")


async def test_two_processes_sweeping_at_once_record_each_breach_once(database_url, seeded) -> None:
    clock = ManualClock(START)
    numbers = [await _p1(seeded, clock) for _ in range(20)]
    clock.advance(timedelta(hours=3))  # every P1 update is overdue
    engines = [create_engine(database_url), create_engine(database_url)]  # two processes' pools
    try:
        results = await asyncio.gather(*(_sweep(create_sessionmaker(e), clock) for e in engines))
    finally:
        for engine in engines:
            await engine.dispose()
    breached = [n for result in results for n in result.breached]
    assert sorted(breached) == sorted(numbers)  # each once, by one of the two
    for number in numbers[:3]:
        assert len(await _events(seeded, number, "breach")) == 1
