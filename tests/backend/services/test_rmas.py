"""RMAs: hardware replacements moved along by staff, logged on the ticket, shipping told to the customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from promptlink.infra.db import transaction
from promptlink.models import Contact, Customer, Device, OutboxItem, Ticket, TicketEvent
from promptlink.services import rmas as svc
from promptlink.services import tickets as tickets_svc
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.ticket_rules import IncidentFacts
from sqlalchemy import select

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
AUTHOR = "l1@promptlink.example"


async def _hardware_ticket(
    sessions,
    *,
    code: str = "CABLEANDINA",
    contact: str = "luis.perez@cableandina.example",
    device: str | None = "cmts-bog-01",
) -> Ticket:
    async with transaction(sessions) as session:
        customer = await session.scalar(select(Customer).where(Customer.code == code))
        person = await session.scalar(select(Contact).where(Contact.email == contact))
        equipment = await session.scalar(select(Device).where(Device.name == device)) if device else None
        draft = tickets_svc.TicketDraft(
            channel="phone",
            type="hardware_failure",
            title="Fuente de poder dañada",
            customer_id=customer.id,
            contact_id=person.id,
            device_id=equipment.id if equipment else None,
            facts=IncidentFacts(severely_damaged=True),
        )
        return (await tickets_svc.create_ticket(session=session, draft=draft, author=AUTHOR, now=NOW)).ticket


async def _rma_number(sessions, ticket: Ticket) -> str:
    async with sessions() as session:
        [row] = [r for r in await svc.list_rmas(session=session) if r.ticket_number == ticket.number]
        return row.rma.number


async def _update(sessions, number: str, status, tracking=None, at=NOW):
    async with transaction(sessions) as session:
        row = await svc.get_rma(session=session, number=number)
        return await svc.update_rma(
            session=session, rma=row.rma, status=status, tracking=tracking, author=AUTHOR, now=at
        )


async def test_the_hardware_ticket_opened_an_rma_shown_with_ticket_customer_and_device(seeded) -> None:
    ticket = await _hardware_ticket(seeded)
    number = await _rma_number(seeded, ticket)
    async with seeded() as session:
        row = await svc.get_rma(session=session, number=number)
        assert (row.ticket_number, row.customer_code, row.device_name) == (ticket.number, "CABLEANDINA", "cmts-bog-01")
        assert (row.rma.status, row.rma.serial) == ("requested", "PLK-CMTS-0001")
        with pytest.raises(NotFound) as missing:
            await svc.get_rma(session=session, number="RMA-2026-999999")
        assert missing.value.public == "La sustitución de hardware no existe."


async def test_shipping_informs_the_customer_with_the_tracking_number(seeded) -> None:
    ticket = await _hardware_ticket(seeded)
    number = await _rma_number(seeded, ticket)
    approved = await _update(seeded, number, "approved")
    assert (approved.kind, approved.public, approved.data["to"]) == ("rma", True, "approved")
    async with seeded() as session:
        before = {i.id for i in await session.scalars(select(OutboxItem))}
    with pytest.raises(InvalidInput) as no_tracking:
        await _update(seeded, number, "shipped")
    assert no_tracking.value.public == "Indique el número de seguimiento del envío."
    shipped_at = NOW + timedelta(hours=2)
    shipped = await _update(seeded, number, "shipped", tracking=" DHL-123456 ", at=shipped_at)
    assert shipped.data["rma"] == number and shipped.data["tracking"] == "DHL-123456"
    assert "DHL-123456" in shipped.text and number in shipped.text
    async with seeded() as session:
        mails = [i for i in await session.scalars(select(OutboxItem).order_by(OutboxItem.id)) if i.id not in before]
        stored = await session.get(Ticket, ticket.id)
        row = await svc.get_rma(session=session, number=number)
    assert sorted(m.recipient for m in mails) == ["ana.gomez@cableandina.example", "luis.perez@cableandina.example"]
    assert all("Número de seguimiento: DHL-123456" in m.body and m.ticket_id == ticket.id for m in mails)
    assert stored.last_update_at == shipped_at  # shipping counts as an update to the customer
    assert (row.rma.status, row.rma.tracking, row.rma.updated_at) == ("shipped", "DHL-123456", shipped_at)


async def test_every_change_is_in_the_tickets_history(seeded) -> None:
    ticket = await _hardware_ticket(seeded, device=None)
    number = await _rma_number(seeded, ticket)
    for status, tracking in (("approved", None), ("shipped", "FDX-9"), ("delivered", None), ("closed", None)):
        await _update(seeded, number, status, tracking)
    async with seeded() as session:
        events = list(
            await session.scalars(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "rma")
                .order_by(TicketEvent.id)
            )
        )
        row = await svc.get_rma(session=session, number=number)
    # The first entry is the ticket service's «solicitada» when it opened the RMA.
    assert [e.data.get("to") for e in events] == [None, "approved", "shipped", "delivered", "closed"]
    assert all(e.public for e in events)
    assert "entregada" in events[3].text
    assert row.device_name is None and row.rma.status == "closed"


ALLOWED = {
    ("requested", "approved"),
    ("requested", "closed"),
    ("approved", "shipped"),
    ("approved", "closed"),
    ("shipped", "delivered"),
    ("delivered", "closed"),
}


async def test_the_status_table(seeded) -> None:
    ticket = await _hardware_ticket(seeded)
    number = await _rma_number(seeded, ticket)
    outcome = {}
    for from_status in svc.STATUSES:
        for to_status in svc.STATUSES:
            async with seeded() as session:  # never committed: each case starts from the stored RMA
                row = await svc.get_rma(session=session, number=number)
                row.rma.status = from_status
                try:
                    await svc.update_rma(
                        session=session, rma=row.rma, status=to_status, tracking="T-1", author=AUTHOR, now=NOW
                    )
                    outcome[(from_status, to_status)] = True
                except InvalidInput as exc:
                    assert "«" in exc.public
                    outcome[(from_status, to_status)] = False
    assert {pair for pair, ok in outcome.items() if ok} == ALLOWED
    for bad_status in ("lost", None, 3):
        with pytest.raises(InvalidInput):
            await _update(seeded, number, bad_status)
    for bad_tracking in ("", "x" * 101, 12):
        with pytest.raises(InvalidInput):
            await _update(seeded, number, "approved", tracking=bad_tracking)


async def test_listing_per_customer_and_status(seeded) -> None:
    first = await _hardware_ticket(seeded)
    second = await _hardware_ticket(seeded, device="cmts-bog-02")
    await _update(seeded, await _rma_number(seeded, first), "approved")
    async with seeded() as session:
        andina = await svc.customer_id_for(session=session, code="CABLEANDINA")
        caribe = await svc.customer_id_for(session=session, code="TELECARIBE")
        assert await svc.customer_id_for(session=session, code="NADIE") == -1
        assert [r.ticket_number for r in await svc.list_rmas(session=session, customer_id=andina)] == [
            second.number,
            first.number,
        ]
        assert await svc.list_rmas(session=session, customer_id=caribe) == []
        assert [r.ticket_number for r in await svc.list_rmas(session=session, status="approved")] == [first.number]
        with pytest.raises(InvalidInput):
            await svc.list_rmas(session=session, status="lost")
