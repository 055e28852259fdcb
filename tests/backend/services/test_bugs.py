"""The bug-tracking module: its state machine, ticket links and the released-fix update."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest
from promptlink.infra.db import transaction
from promptlink.models import BugEvent, Contact, Customer, OutboxItem, Ticket, TicketEvent
from promptlink.models.bug import STATES
from promptlink.services import bugs as svc
from promptlink.services import ticket_updates
from promptlink.services import tickets as tickets_svc
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.ticket_rules import IncidentFacts
from sqlalchemy import select

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
AUTHOR = "l2@promptlink.example"

# The bug workflow, written out (the states are ours: docs/support-plan.md#software-faults):
# new → confirmed → in progress → fixed in version X → released; any state before «fixed» may
# end in won't fix. Every other move is refused.
ALLOWED = {
    ("new", "confirmed"),
    ("new", "wont_fix"),
    ("confirmed", "in_progress"),
    ("confirmed", "wont_fix"),
    ("in_progress", "fixed"),
    ("in_progress", "wont_fix"),
    ("fixed", "released"),
}
PAIRS = list(product(STATES, STATES))


async def _software_ticket(
    sessions, *, title: str = "Error al exportar", contact: str = "luis.perez@cableandina.example"
):
    """A software-fault ticket of CABLEANDINA: the ticket service opens and links its bug."""
    async with transaction(sessions) as session:
        customer = await session.scalar(select(Customer).where(Customer.code == "CABLEANDINA"))
        person = await session.scalar(select(Contact).where(Contact.email == contact))
        draft = tickets_svc.TicketDraft(
            channel="phone",
            type="software_bug",
            title=title,
            customer_id=customer.id,
            contact_id=person.id,
            facts=IncidentFacts(damaged=True),
        )
        created = await tickets_svc.create_ticket(session=session, draft=draft, author=AUTHOR, now=NOW)
        return created.ticket


async def _bug_of(sessions, ticket: Ticket) -> str:
    async with sessions() as session:
        rows, _total = await svc.list_bugs(session=session, query=ticket.title)
        [bug] = [
            b for b in rows if ticket.number in [t.number for t in await svc.linked_tickets(session=session, bug=b)]
        ]
        return bug.key


async def _move(sessions, key: str, to_state: str, *, version: str | None = None, note: str = "", at=NOW):
    async with transaction(sessions) as session:
        bug = await svc.get_bug(session=session, key=key)
        return await svc.transition_bug(
            session=session, bug=bug, to_state=to_state, author=AUTHOR, now=at, note=note, version=version
        )


async def test_every_transition_of_the_table_is_allowed_or_refused(seeded) -> None:
    results: dict[tuple[str, str], bool] = {}
    for from_state, to_state in PAIRS:
        async with transaction(seeded) as session:
            bug = await svc.open_bug(
                session=session, title=f"{from_state}->{to_state}", description="", product="", author=AUTHOR, now=NOW
            )
            bug.state = from_state  # put it straight in the state under test
            try:
                await svc.transition_bug(
                    session=session, bug=bug, to_state=to_state, author=AUTHOR, now=NOW, version="2.4.1"
                )
            except InvalidInput as exc:
                assert "«" in exc.public  # a Spanish sentence naming both states
                results[(from_state, to_state)] = False
            else:
                assert bug.state == to_state
                results[(from_state, to_state)] = True
    assert {pair for pair, ok in results.items() if ok} == ALLOWED
    assert len(results) == len(STATES) ** 2


async def test_the_full_path_is_logged_on_the_bug_and_the_linked_ticket(seeded) -> None:
    ticket = await _software_ticket(seeded)
    key = await _bug_of(seeded, ticket)
    for i, state in enumerate(("confirmed", "in_progress")):
        await _move(seeded, key, state, note=f"paso {i}", at=NOW + timedelta(hours=i + 1))
    bug = await _move(seeded, key, "fixed", version=" 2.4.1 ", at=NOW + timedelta(hours=3))
    assert bug.fixed_in_version == "2.4.1"
    async with seeded() as session:
        events = list(await session.scalars(select(BugEvent).where(BugEvent.bug_id == bug.id).order_by(BugEvent.id)))
        assert [(e.from_state, e.to_state) for e in events] == [
            (None, "new"),
            ("new", "confirmed"),
            ("confirmed", "in_progress"),
            ("in_progress", "fixed"),
        ]
        assert [e.note for e in events[1:3]] == ["paso 0", "paso 1"]
        changes = list(
            await session.scalars(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "bug_changed")
                .order_by(TicketEvent.id)
            )
        )
        assert [c.data["to"] for c in changes] == ["confirmed", "in_progress", "fixed"]
        assert "en la versión 2.4.1" in changes[-1].text
        assert all(not c.public for c in changes)


async def test_fixed_needs_the_version_and_unknown_states_are_refused(seeded) -> None:
    ticket = await _software_ticket(seeded)
    key = await _bug_of(seeded, ticket)
    await _move(seeded, key, "confirmed")
    await _move(seeded, key, "in_progress")
    with pytest.raises(InvalidInput) as missing:
        await _move(seeded, key, "fixed")
    assert missing.value.public == "Indique la versión que corrige la falla."
    with pytest.raises(InvalidInput):
        await _move(seeded, key, "solved")
    async with transaction(seeded) as session:
        bug = await svc.get_bug(session=session, key=key)
        with pytest.raises(InvalidInput):
            await svc.change_bug_state(
                session=session, bug=bug, state="fixed", note=None, version="   ", author=AUTHOR, now=NOW
            )
        with pytest.raises(InvalidInput):
            await svc.change_bug_state(
                session=session, bug=bug, state=["fixed"], note=None, version="1", author=AUTHOR, now=NOW
            )


async def test_a_released_fix_informs_the_customers_of_linked_open_tickets_only(seeded) -> None:
    open_ticket = await _software_ticket(seeded, title="Falla en reportes")
    key = await _bug_of(seeded, open_ticket)
    closed_ticket = await _software_ticket(
        seeded, title="Otra falla en reportes", contact="ana.gomez@cableandina.example"
    )
    other_key = await _bug_of(seeded, closed_ticket)
    async with transaction(seeded) as session:
        bug = await svc.get_bug(session=session, key=key)
        assert await svc.link_ticket_number(
            session=session, bug=bug, number=closed_ticket.number, author=AUTHOR, now=NOW
        )
        assert not await svc.link_ticket_number(
            session=session, bug=bug, number=closed_ticket.number, author=AUTHOR, now=NOW
        )
        closed = await tickets_svc.get_ticket(session=session, number=closed_ticket.number)
        await ticket_updates.change_status(session=session, ticket=closed, status="closed", author=AUTHOR, now=NOW)
    assert other_key != key
    for state, version in (("confirmed", None), ("in_progress", None), ("fixed", "3.0.2")):
        await _move(seeded, key, state, version=version)
    released_at = NOW + timedelta(days=2)
    async with seeded() as session:
        before = {i.id for i in await session.scalars(select(OutboxItem))}
    await _move(seeded, key, "released", at=released_at)
    async with seeded() as session:
        new_items = [i for i in await session.scalars(select(OutboxItem).order_by(OutboxItem.id)) if i.id not in before]
        updates = list(
            await session.scalars(
                select(TicketEvent).where(TicketEvent.kind == "update", TicketEvent.at == released_at)
            )
        )
    # Ana is CABLEANDINA's notification party and Luis reported the open ticket.
    assert {(i.ticket_id, i.recipient) for i in new_items} == {
        (open_ticket.id, "ana.gomez@cableandina.example"),
        (open_ticket.id, "luis.perez@cableandina.example"),
    }
    assert all("3.0.2" in i.body and key in i.body for i in new_items)
    assert [(u.ticket_id, u.public) for u in updates] == [(open_ticket.id, True)]


async def test_reporting_a_bug_validates_input_and_links_by_ticket_number(seeded) -> None:
    ticket = await _software_ticket(seeded)
    async with transaction(seeded) as session:
        bug = await svc.report_bug(
            session=session,
            title="  Exportación CSV vacía ",
            description="Desde la 2.4",
            product="PL-CMTS 3200",
            ticket_number=ticket.number,
            author=AUTHOR,
            now=NOW,
        )
        assert bug.key == f"BUG-{bug.id:06d}" and bug.title == "Exportación CSV vacía" and bug.state == "new"
        assert [t.number for t in await svc.linked_tickets(session=session, bug=bug)] == [ticket.number]
        with pytest.raises(InvalidInput):
            await svc.report_bug(session=session, title=" ", description="", product="", author=AUTHOR, now=NOW)
        with pytest.raises(InvalidInput):
            await svc.report_bug(session=session, title="x" * 301, description="", product="", author=AUTHOR, now=NOW)
        with pytest.raises(NotFound):
            await svc.report_bug(
                session=session, title="t", description="", product="", ticket_number="PL-0", author=AUTHOR, now=NOW
            )
        with pytest.raises(NotFound):
            await svc.get_bug(session=session, key="BUG-999999")


async def test_listing_filters_by_state_and_text(seeded) -> None:
    async with transaction(seeded) as session:
        a = await svc.open_bug(
            session=session, title="Alarma duplicada", description="", product="OLT", author=AUTHOR, now=NOW
        )
        b = await svc.open_bug(
            session=session, title="Reporte lento", description="", product="CMTS", author=AUTHOR, now=NOW
        )
        await svc.transition_bug(session=session, bug=b, to_state="confirmed", author=AUTHOR, now=NOW)
    async with seeded() as session:
        confirmed, total = await svc.list_bugs(session=session, state="confirmed")
        assert ([x.key for x in confirmed], total) == ([b.key], 1)
        by_text, _ = await svc.list_bugs(session=session, query="alarma")
        assert [x.key for x in by_text] == [a.key]
        by_product, _ = await svc.list_bugs(session=session, query="cmts")
        assert [x.key for x in by_product] == [b.key]
        with pytest.raises(InvalidInput):
            await svc.list_bugs(session=session, state="open")
        assert [e.to_state for e in await svc.bug_history(session=session, bug=b)] == ["new", "confirmed"]
