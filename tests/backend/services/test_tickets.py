"""Creating and working tickets: numbering, history, entitlement, follow-ups, notifications."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from promptlink.infra.db import transaction
from promptlink.models import Bug, Contact, Contract, Conversation, Customer, Device, OutboxItem, Rma, Ticket
from promptlink.services import intake
from promptlink.services import tickets as svc
from promptlink.services.auth import Principal
from promptlink.services.errors import InvalidInput
from promptlink.services.ticket_events import history
from promptlink.services.ticket_links import ticket_links
from promptlink.services.ticket_rules import IncidentFacts
from promptlink.services.ticket_updates import change_priority, post_update
from sqlalchemy import event, func, select
from sqlalchemy import inspect as sa_inspect

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
STAFF = Principal(role="agent", email="l1@promptlink.example", name="L1", agent_id=1, tiers=("L1",))


async def _ids(sessions, code: str, email: str | None = None) -> tuple[int, int | None]:
    async with sessions() as session:
        customer = await session.scalar(select(Customer).where(Customer.code == code))
        contact = await session.scalar(select(Contact).where(Contact.email == email)) if email else None
        return customer.id, contact.id if contact else None


async def _create(sessions, **kw) -> Ticket:
    code = kw.pop("customer", "CABLEANDINA")
    email = kw.pop("contact", "luis.perez@cableandina.example")
    customer_id, contact_id = await _ids(sessions, code, email)
    key = kw.pop("key", None)
    draft = svc.TicketDraft(
        channel=kw.pop("channel", "phone"),
        type=kw.pop("type", "information"),
        title=kw.pop("title", "Consulta"),
        customer_id=customer_id,
        contact_id=contact_id,
        **kw,
    )
    async with transaction(sessions) as session:
        return (
            await svc.create_ticket(
                session=session, draft=draft, author="l1@promptlink.example", now=NOW, idempotency_key=key
            )
        ).ticket


async def _history_kinds(sessions, number: str) -> list[str]:
    async with sessions() as session:
        ticket = await svc.get_ticket(session=session, number=number)
        return [e.kind for e in await history(session=session, ticket=ticket)]


async def _outbox(sessions, ticket: Ticket) -> list[OutboxItem]:
    async with sessions() as session:
        return list(
            await session.scalars(select(OutboxItem).where(OutboxItem.ticket_id == ticket.id).order_by(OutboxItem.id))
        )


async def test_a_ticket_gets_a_number_history_and_an_acknowledgement(seeded) -> None:
    ticket = await _create(seeded, title="¿Cómo configuro el nodo?", facts=IncidentFacts(information_request=True))
    assert ticket.number == f"PL-2026-{ticket.id:06d}"
    assert (ticket.priority, ticket.tier, ticket.status) == (4, "L1", "new")
    assert ticket.next_update_due == NOW + timedelta(days=7)
    assert await _history_kinds(seeded, ticket.number) == ["created", "prioritized", "routed"]
    [ack] = await _outbox(seeded, ticket)
    assert ack.recipient == "luis.perez@cableandina.example"
    assert ticket.number in ack.subject and "P4" in ack.body and "cada semana" in ack.body


async def test_a_software_fault_opens_a_linked_bug(seeded) -> None:
    ticket = await _create(seeded, type="software_bug", title="Error al exportar", facts=IncidentFacts(damaged=True))
    assert (ticket.priority, ticket.tier) == (3, "L2")
    assert "bug_linked" in await _history_kinds(seeded, ticket.number)
    async with seeded() as session:
        assert await session.scalar(select(func.count()).select_from(Bug)) == 1


async def test_hardware_failure_with_contract_gets_an_rma_by_fastest_shipping(seeded) -> None:
    ticket = await _create(
        seeded,
        type="hardware_failure",
        title="Fuente dañada",
        device_id=None,
        facts=IncidentFacts(severely_damaged=True),
    )
    async with seeded() as session:
        rma = await session.scalar(select(Rma).where(Rma.ticket_id == ticket.id))
    assert rma is not None and rma.number.startswith("RMA-2026-")
    assert "más rápido" in rma.shipping_method
    assert ticket.covered is True


async def test_hardware_failure_without_contract_is_stated_and_quoted(seeded) -> None:
    ticket = await _create(
        seeded,
        customer="TELECARIBE",
        contact="maria.rodriguez@telecaribe.example",
        type="hardware_failure",
        title="OLT sin energía",
        facts=IncidentFacts(severely_damaged=True),
    )
    assert ticket.covered is False and "no está cubierta" in ticket.coverage_note
    kinds = await _history_kinds(seeded, ticket.number)
    assert "quote_request" in kinds and "coverage" in kinds and "rma" not in kinds
    # Severely damaged (P2): Level 3 diagnoses it; the quote request is for Level 1 all the same.
    assert ticket.tier == "L3"
    [ack] = await _outbox(seeded, ticket)
    assert "no está cubierta" in ack.body  # stated plainly to the customer


async def test_an_expired_contract_is_stated_and_the_request_still_recorded(seeded) -> None:
    async with transaction(seeded) as session:
        customer = await session.scalar(select(Customer).where(Customer.code == "TELECARIBE"))
        for contract in await session.scalars(select(Contract).where(Contract.customer_id == customer.id)):
            contract.ends_on = date(2026, 1, 31)
    ticket = await _create(
        seeded,
        customer="TELECARIBE",
        contact="maria.rodriguez@telecaribe.example",
        type="configuration",
        title="Ayuda con parámetros",
    )
    assert ticket.covered is False and "no tiene un contrato vigente" in ticket.coverage_note
    assert ticket.number is not None


async def test_the_same_idempotency_key_creates_one_ticket_even_concurrently(seeded) -> None:
    results = await asyncio.gather(*(_create(seeded, title="Reintento", key="same-key-1") for _ in range(20)))
    assert len({t.id for t in results}) == 1
    async with seeded() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1


async def test_an_update_reaches_every_notification_party_and_the_chat(seeded) -> None:
    customer_id, _ = await _ids(seeded, "CABLEANDINA")
    async with transaction(seeded) as session:
        session.add(Conversation(id="conv-1", customer_id=customer_id, mode="bot", last_seq=0))
    ticket = await _create(
        seeded,
        title="Caída del nodo",
        type="network_outage",
        conversation_id="conv-1",
        facts=IncidentFacts(production_down=True),
    )
    later = NOW + timedelta(minutes=45)
    async with transaction(seeded) as session:
        t = await svc.get_ticket(session=session, number=ticket.number)
        event = await post_update(session=session, ticket=t, text="Técnico en camino.", author="l3@x", now=later)
        assert t.next_update_due == later + timedelta(hours=2) and t.status == "open"
    assert event.public and set(event.data["channels"]) == {"email", "chat"}
    items = await _outbox(seeded, ticket)
    update_mails = {i.recipient for i in items if i.kind == "email" and "Actualización" in i.subject}
    # Ana is the notification party of Cable Andina; Luis reported the ticket.
    assert update_mails == {"ana.gomez@cableandina.example", "luis.perez@cableandina.example"}
    [chat] = [i for i in items if i.kind == "chat"]
    assert chat.conversation_id == "conv-1" and "Técnico en camino." in chat.body


async def test_priority_override_needs_a_reason_and_is_logged(seeded) -> None:
    ticket = await _create(seeded, title="Lentitud", facts=IncidentFacts(damaged=True))
    async with transaction(seeded) as session:
        t = await svc.get_ticket(session=session, number=ticket.number)
        with pytest.raises(InvalidInput):
            await change_priority(session=session, ticket=t, priority=2, reason="  ", author="x", now=NOW)
        with pytest.raises(InvalidInput):
            await change_priority(session=session, ticket=t, priority=7, reason="x", author="x", now=NOW)
    async with transaction(seeded) as session:
        t = await svc.get_ticket(session=session, number=ticket.number)
        event = await change_priority(
            session=session,
            ticket=t,
            priority=2,
            reason="Afecta a 3 nodos",
            author="supervisor@promptlink.example",
            now=NOW,
        )
        assert event.data == {"from": 3, "to": 2, "reason": "Afecta a 3 nodos"}
        assert t.priority == 2


@pytest.mark.parametrize(
    ("change", "public"),
    [
        ({"title": ""}, "título"),
        ({"title": "x" * 301}, "demasiado largo"),
        ({"type": "coffee"}, "tipo"),
        ({"channel": "fax"}, "canal"),
    ],
)
async def test_bad_drafts_are_refused_and_store_nothing(seeded, change, public) -> None:
    with pytest.raises(InvalidInput) as caught:
        await _create(seeded, **change)
    assert public in caught.value.public
    async with seeded() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0


@pytest.mark.parametrize(
    ("field", "public"), [("contact_id", "El contacto no existe."), ("device_id", "El equipo no existe.")]
)
async def test_a_missing_contact_or_device_is_refused_and_nothing_is_stored(seeded, field: str, public: str) -> None:
    customer_id, _ = await _ids(seeded, "CABLEANDINA")
    draft = svc.TicketDraft(channel="phone", type="information", title="Consulta", customer_id=customer_id)
    setattr(draft, field, 999_999)
    with pytest.raises(InvalidInput) as refused:
        async with transaction(seeded) as session:
            await svc.create_ticket(session=session, draft=draft, author="l1@promptlink.example", now=NOW)
    assert refused.value.public == public
    async with seeded() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0


# --- What the customer says: structured fields, RMA and bug details, related tickets ---------

BOGOTA = timezone(timedelta(hours=-5))


async def _device_id(sessions, name: str) -> int:
    async with sessions() as session:
        return await session.scalar(select(Device.id).where(Device.name == name))


async def test_the_customers_details_are_kept_as_said_and_since_is_stored_in_utc(seeded) -> None:
    since = datetime(2026, 11, 25, 8, 30, tzinfo=BOGOTA)
    ticket = await _create(
        seeded,
        type="network_outage",
        title="Sin señal en el nodo norte",
        device_text="Router del nodo norte",
        serial="SN-778899",
        version="4.2.1",
        error_message="E042: pérdida de portadora\nen el puerto 3",
        since=since,
        facts=IncidentFacts(damaged=True),
    )
    async with seeded() as session:
        stored = await session.get(Ticket, ticket.id)
    assert (stored.device_id, stored.device_text, stored.serial, stored.version) == (
        None,
        "Router del nodo norte",
        "SN-778899",
        "4.2.1",
    )
    assert stored.error_message == "E042: pérdida de portadora\nen el puerto 3"
    assert stored.since == since and stored.since.utcoffset() == timedelta(0)  # 13:30 UTC
    # The acknowledgement repeats what was recorded, the date in words on the customer's clock.
    [ack] = await _outbox(seeded, ticket)
    assert "Equipo: Router del nodo norte" in ack.body and "Número de serie: SN-778899" in ack.body
    assert "Desde: 25 de noviembre de 2026, 08:30 (hora de Bogotá)" in ack.body


@pytest.mark.parametrize(
    ("change", "public"),
    [
        ({"serial": "x" * 101}, "número de serie"),
        ({"version": "x" * 51}, "versión"),
        ({"error_message": "x" * 2001}, "mensaje de error"),
        ({"device_text": "x" * 201}, "nombre del equipo"),
        ({"since": datetime(2026, 11, 25, 8, 30)}, "fecha de inicio"),
    ],
)
async def test_details_out_of_bounds_are_refused_and_store_nothing(seeded, change, public) -> None:
    with pytest.raises(InvalidInput) as caught:
        await _create(seeded, **change)
    assert public in caught.value.public.lower()
    async with seeded() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0


@pytest.mark.parametrize(("serial", "expected"), [("SN-EN-MANO-1", "SN-EN-MANO-1"), (None, "PLK-CMTS-0001")])
async def test_the_rma_carries_the_customers_serial_or_the_registered_one(seeded, serial, expected) -> None:
    ticket = await _create(
        seeded,
        type="hardware_failure",
        title="Fuente dañada",
        device_id=await _device_id(seeded, "cmts-bog-01"),
        serial=serial,
        facts=IncidentFacts(damaged=True),
    )
    async with seeded() as session:
        rma = await session.scalar(select(Rma).where(Rma.ticket_id == ticket.id))
        links = (await ticket_links(session=session, tickets=[ticket]))[ticket.id]
    assert (rma.serial, rma.device_id, rma.device_text) == (expected, ticket.device_id, None)
    assert (links.rma.number, links.rma_device) == (rma.number, "cmts-bog-01")


async def test_an_rma_for_an_unregistered_device_keeps_the_customers_words(seeded) -> None:
    ticket = await _create(
        seeded,
        type="hardware_failure",
        title="Amplificador quemado",
        device_text="Amplificador de línea 7",
        serial="AMP-7",
        facts=IncidentFacts(damaged=True),
    )
    async with seeded() as session:
        rma = await session.scalar(select(Rma).where(Rma.ticket_id == ticket.id))
        links = (await ticket_links(session=session, tickets=[ticket]))[ticket.id]
    assert (rma.serial, rma.device_id, rma.device_text) == ("AMP-7", None, "Amplificador de línea 7")
    assert links.rma_device == "Amplificador de línea 7"


async def test_the_bug_carries_the_product_and_the_version(seeded) -> None:
    registered = await _create(
        seeded,
        type="software_bug",
        title="El portal no exporta",
        description="Al exportar el inventario.",
        device_id=await _device_id(seeded, "cmts-bog-01"),
        version="4.2.1",
        error_message="HTTP 500",
        since=datetime(2026, 11, 24, 9, 0, tzinfo=BOGOTA),
        facts=IncidentFacts(damaged=True),
    )
    unregistered = await _create(
        seeded, type="software_bug", title="Falla del gestor", device_text="Gestor NMS", version="7.1"
    )
    async with seeded() as session:
        links = await ticket_links(session=session, tickets=[registered, unregistered])
    bug = links[registered.id].bug
    assert (bug.product, bug.version, bug.state) == ("PL-CMTS 3200", "4.2.1", "new")
    assert "Al exportar el inventario." in bug.description and "Mensaje de error: HTTP 500" in bug.description
    assert "24 de noviembre de 2026, 09:00" in bug.description
    other = links[unregistered.id].bug
    assert (other.product, other.version) == ("Gestor NMS", "7.1")


async def test_a_related_ticket_is_linked_in_both_histories(seeded) -> None:
    alarm = await _create(seeded, channel="snmp", type="network_outage", title="Enlace caído en cmts-bog-01")
    report = await _create(seeded, channel="chat", title="Sin internet en Bogotá", related_ticket_id=alarm.id)
    async with seeded() as session:
        mine = await svc.get_ticket(session=session, number=report.number)
        theirs = await svc.get_ticket(session=session, number=alarm.number)
        [forward] = [e for e in await history(session=session, ticket=mine, public_only=True) if e.kind == "linked"]
        [back] = [e for e in await history(session=session, ticket=theirs, public_only=True) if e.kind == "linked"]
        links = await ticket_links(session=session, tickets=[mine, theirs])
    assert mine.related_ticket_id == alarm.id
    assert forward.text == f"Relacionado con el tiquete {alarm.number} (alarma SNMP)."
    assert back.text == f"Relacionado con el tiquete {report.number} («Sin internet en Bogotá»)."
    assert (forward.data, back.data) == ({"ticket": alarm.number}, {"ticket": report.number})
    assert (links[mine.id].related_number, links[theirs.id].related_number) == (alarm.number, None)


async def test_another_customers_ticket_cannot_be_related(seeded) -> None:
    theirs = await _create(
        seeded, customer="TELECARIBE", contact="maria.rodriguez@telecaribe.example", title="Consulta de María"
    )
    with pytest.raises(InvalidInput) as refused:
        await _create(seeded, title="Mía", related_ticket_id=theirs.id)
    assert refused.value.public == "El tiquete relacionado no existe."
    async with seeded() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1


async def test_an_update_mail_names_the_status_in_spanish(seeded) -> None:
    ticket = await _create(seeded, title="Lentitud en el portal")
    async with transaction(seeded) as session:
        t = await svc.get_ticket(session=session, number=ticket.number)
        await post_update(session=session, ticket=t, text="Revisamos los registros.", author="l1@x", now=NOW)
    [mail, *_] = [i for i in await _outbox(seeded, ticket) if "Actualización" in i.subject]
    assert "Estado: en curso" in mail.body and "open" not in mail.body


@pytest.mark.parametrize("owner", ["TELECARIBE", None, "missing"])
async def test_a_ticket_joins_only_the_customers_own_chat(seeded, owner: str | None) -> None:
    """Updates go into the ticket's chat: another company's (or an unverified) chat is refused."""
    if owner != "missing":
        customer_id = (await _ids(seeded, owner))[0] if owner else None
        async with transaction(seeded) as session:
            session.add(Conversation(id="other-chat", customer_id=customer_id, mode="bot", last_seq=0))
    with pytest.raises(InvalidInput) as refused:
        await _create(seeded, title="Consulta", conversation_id="other-chat")
    assert refused.value.public == "La conversación no existe."
    async with seeded() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0


async def test_tickets_created_in_one_transaction_get_their_own_numbers_bugs_and_rmas(seeded) -> None:
    """Numbers are made from ids taken before each INSERT: several creations in one transaction
    (an SNMP wave, a batch) still get distinct numbers, each its own id's, and so do their bugs and RMAs."""
    customer_id, contact_id = await _ids(seeded, "CABLEANDINA", "luis.perez@cableandina.example")
    kinds = [("software_bug", IncidentFacts(damaged=True)), ("hardware_failure", IncidentFacts(severely_damaged=True))]
    async with transaction(seeded) as session:
        created = [
            await svc.create_ticket(
                session=session,
                draft=svc.TicketDraft(
                    channel="phone",
                    type=kind,
                    title=f"Falla {n}",
                    facts=facts,
                    customer_id=customer_id,
                    contact_id=contact_id,
                ),
                author="l1@promptlink.example",
                now=NOW,
            )
            for n in range(2)
            for kind, facts in kinds
        ]
    tickets = [c.ticket for c in created]
    assert len({t.id for t in tickets}) == 4
    assert [t.number for t in tickets] == [f"PL-2026-{t.id:06d}" for t in tickets]
    async with seeded() as session:
        bugs = list(await session.scalars(select(Bug).order_by(Bug.id)))
        rmas = list(await session.scalars(select(Rma).order_by(Rma.id)))
        stored = {t.id: t.number for t in await session.scalars(select(Ticket))}
    assert stored == {t.id: t.number for t in tickets}
    assert [b.key for b in bugs] == [f"BUG-{b.id:06d}" for b in bugs] and len(bugs) == 2
    assert [r.number for r in rmas] == [f"RMA-2026-{r.id:06d}" for r in rmas] and len(rmas) == 2
    assert [r.ticket_id for r in rmas] == [tickets[1].id, tickets[3].id]


@pytest.mark.parametrize(
    ("kind", "facts"),
    [
        ("software_bug", IncidentFacts(damaged=True)),  # created, prioritized, routed, bug_linked
        ("hardware_failure", IncidentFacts(severely_damaged=True)),  # ... and the RMA's entry
    ],
)
async def test_a_new_tickets_history_as_returned_is_the_history_stored(seeded, kind, facts) -> None:
    """The creation answers with the entries it wrote (the API shows them without reading them
    back): the same entries, in the same order, as reading the history afterwards."""
    customer_id, contact_id = await _ids(seeded, "CABLEANDINA", "luis.perez@cableandina.example")
    draft = svc.TicketDraft(
        channel="phone", type=kind, title="Falla", facts=facts, customer_id=customer_id, contact_id=contact_id
    )
    async with transaction(seeded) as session:
        result = await svc.create_ticket(session=session, draft=draft, author="l1@promptlink.example", now=NOW)
    assert result.history is not None
    async with seeded() as session:
        ticket = await svc.get_ticket(session=session, number=result.ticket.number)
        stored = [e.to_dict() for e in await history(session=session, ticket=ticket)]
    assert [e.to_dict() for e in result.history] == stored
    assert len(stored) >= 4


@pytest.mark.parametrize(
    "change",
    [
        {},  # information: no follow-up
        {"type": "software_bug", "facts": IncidentFacts(damaged=True), "version": "4.2", "error_message": "E-17"},
        {"type": "hardware_failure", "facts": IncidentFacts(severely_damaged=True), "serial": "SN-1"},
        {"customer": "TELECARIBE", "contact": None, "since": datetime(2026, 11, 25, 9, 30, tzinfo=UTC)},
    ],
)
async def test_a_new_ticket_as_returned_is_the_row_stored(seeded, change) -> None:
    """The ticket's row is written by one INSERT of every column (not the ORM's flush): the ticket
    the creation returns holds exactly what was stored, and stays the session's own ticket (a later
    change in the same transaction is written)."""
    body = {"key": "same-row", "title": "  Consulta  ", **change}
    ticket = await _create(seeded, **body)
    columns = [prop.key for prop in Ticket.__mapper__.column_attrs]
    async with seeded() as session:
        stored = await session.get(Ticket, ticket.id)
        assert {c: getattr(ticket, c) for c in columns} == {c: getattr(stored, c) for c in columns}
        assert (ticket.customer_id, ticket.contact_id) == (stored.customer_id, stored.contact_id)
    customer_id, contact_id = await _ids(seeded, "CABLEANDINA", "luis.perez@cableandina.example")
    draft = svc.TicketDraft(
        channel="phone", type="information", title="Otra", customer_id=customer_id, contact_id=contact_id
    )
    async with transaction(seeded) as session:
        created = await svc.create_ticket(session=session, draft=draft, author="system", now=NOW)
        assert sa_inspect(created.ticket).persistent and created.ticket in session
        created.ticket.status = "open"
    async with seeded() as session:
        assert (await session.get(Ticket, created.ticket.id)).status == "open"


async def test_a_create_through_the_api_sends_one_statement_per_write(seeded) -> None:
    """What `POST /api/v1/tickets` runs in its transaction for a body naming customer and contact
    (after the caller's row): the customer with its contracts, the contact, the idempotency key
    (with the next id on SQLite; PostgreSQL takes its `nextval`), one INSERT each for the ticket,
    its history and its acknowledgement; no savepoint, no UPDATE, no read back. A replay of the key
    reads the ticket and writes nothing."""
    engine = seeded.kw["bind"]
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(" ".join(statement.split()[:3]).upper())

    async def create() -> svc.Created:
        async with transaction(seeded) as session:
            data = {"customer": "CABLEANDINA", "contact": "luis.perez@cableandina.example", "title": "Consulta"}
            read = await intake.read_body(session=session, caller=STAFF, data=data, now=NOW)
            return await svc.create_ticket(
                session=session,
                draft=read.draft,
                author=STAFF.email,
                now=NOW,
                idempotency_key="k",
                idempotency_scope="agent:1",
            )

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        first = await create()
        written, statements[:] = list(statements), []
        replay = await create()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert first.created and not replay.created and replay.ticket.id == first.ticket.id
    inserts = ["INSERT INTO TICKETS", "INSERT INTO TICKET_EVENTS", "INSERT INTO OUTBOX"]
    if engine.dialect.name == "sqlite":
        assert written == [
            "BEGIN IMMEDIATE",
            "SELECT CUSTOMERS.ID, CUSTOMERS.CODE,",  # with its contracts (joined)
            "SELECT CONTACTS.ID, CONTACTS.CUSTOMER_ID,",
            "SELECT (SELECT TICKETS.ID",  # the key's ticket, if any, and the next id
            *inserts,
        ]
    else:
        assert written == [
            "SELECT CUSTOMERS.ID, CUSTOMERS.CODE,",
            "SELECT CONTACTS.ID, CONTACTS.CUSTOMER_ID,",
            "SELECT TICKETS.ID FROM",  # the key's ticket, if any
            "SELECT NEXTVAL(PG_GET_SERIAL_SEQUENCE($1::VARCHAR, 'ID'))",
            *inserts,  # the ticket's: ON CONFLICT (idempotency_key) DO NOTHING
        ]
    assert not [s for s in written + statements if s.startswith("UPDATE")]
    assert not [s for s in statements if s.startswith("INSERT")]


async def test_a_retry_racing_the_first_create_gets_its_ticket(seeded) -> None:
    """A retry whose look-up ran before the first create committed: on PostgreSQL its INSERT waits
    for the first transaction, does nothing on the key's conflict and answers with that ticket (on
    SQLite the retry waits for the write lock and finds the key)."""
    customer_id, contact_id = await _ids(seeded, "CABLEANDINA", "luis.perez@cableandina.example")

    async def create(session) -> svc.Created:
        draft = svc.TicketDraft(
            channel="phone", type="information", title="Carrera", customer_id=customer_id, contact_id=contact_id
        )
        return await svc.create_ticket(
            session=session, draft=draft, author="system", now=NOW, idempotency_key="race", idempotency_scope="agent:1"
        )

    async def retry() -> svc.Created:
        async with transaction(seeded) as session:
            return await create(session)

    async with transaction(seeded) as session:
        first = await create(session)
        racing = asyncio.create_task(retry())
        await asyncio.sleep(0.3)  # the retry has looked the key up (PostgreSQL) and waits
        assert not racing.done()
    second = await racing
    assert first.created and not second.created and second.ticket.id == first.ticket.id
    async with seeded() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket).where(Ticket.title == "Carrera")) == 1
