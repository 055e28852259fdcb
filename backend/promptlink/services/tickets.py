"""The service incident system's way in: every channel (chat, e-mail, phone, SNMP, API) records
an incident through `create_ticket`, which classifies, routes and files it (the decision itself,
shared with the intake's preview, is `services.ticket_classification`).

Every change is recorded in the ticket's append-only history (`services.ticket_events`); what a
new ticket sets off (bug, RMA, acknowledgement) is `services.ticket_followups`; the changes after
creation are `services.ticket_updates`; the lists, `services.ticket_lists`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from promptlink.infra.db import next_id, sqlite_next_id
from promptlink.models import Ticket, TicketEvent
from promptlink.services.auth import Principal
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.notifications import schedule_next_update
from promptlink.services.ticket_classification import Classification, Parties, classify, load_parties
from promptlink.services.ticket_events import entry, written_for
from promptlink.services.ticket_followups import set_off
from promptlink.services.ticket_links import TicketLinks
from promptlink.services.ticket_rules import IncidentFacts
from promptlink.vocabulary import CHANNEL_NAMES, CHANNELS, TYPES

MAX_TITLE = 300
MAX_TEXT = 10_000
# The intake's structured fields (what the customer says), each bounded like its column.
MAX_DEVICE_TEXT = 200
MAX_SERIAL = 100
MAX_VERSION = 50
MAX_ERROR_MESSAGE = 2_000


@dataclass
class TicketDraft:
    """What a channel knows about a new incident."""

    channel: str
    type: str
    title: str
    description: str = ""
    facts: IncidentFacts = field(default_factory=IncidentFacts)
    complex_case: bool = False
    customer_id: int | None = None
    contact_id: int | None = None
    reporter_email: str | None = None
    device_id: int | None = None
    conversation_id: str | None = None
    verified: bool = True
    # What the customer said, as said: a device that is not registered, serial number, software
    # version, error message, since when (aware), and the ticket it relates to (same customer).
    device_text: str | None = None
    serial: str | None = None
    version: str | None = None
    error_message: str | None = None
    since: datetime | None = None
    related_ticket_id: int | None = None

    def validate(self) -> None:
        if self.channel not in CHANNELS:
            raise InvalidInput(f"unknown channel {self.channel!r}", public="El canal no es válido.")
        if self.type not in TYPES:
            raise InvalidInput(f"unknown ticket type {self.type!r}", public="El tipo de incidencia no es válido.")
        if not isinstance(self.title, str) or not self.title.strip():
            raise InvalidInput("title is required and must be text", public="Indique un título para la incidencia.")
        if len(self.title) > MAX_TITLE:
            raise InvalidInput(f"title longer than {MAX_TITLE} characters", public="El título es demasiado largo.")
        if not isinstance(self.description, str):
            raise InvalidInput("description must be text", public="La descripción debe ser texto.")
        if len(self.description) > MAX_TEXT:
            raise InvalidInput(
                f"description longer than {MAX_TEXT} characters", public="La descripción es demasiado larga."
            )
        for name, limit, what in DETAIL_FIELDS:
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                raise InvalidInput(
                    f"{name} must be text of at most {limit} characters",
                    public=f"{what} admite como máximo {limit} caracteres de texto.",
                )
        if self.since is not None and (not isinstance(self.since, datetime) or self.since.utcoffset() is None):
            raise InvalidInput("since must be a timezone-aware datetime", public="La fecha de inicio no es válida.")


DETAIL_FIELDS = (
    ("device_text", MAX_DEVICE_TEXT, "El nombre del equipo"),
    ("serial", MAX_SERIAL, "El número de serie"),
    ("version", MAX_VERSION, "La versión"),
    ("error_message", MAX_ERROR_MESSAGE, "El mensaje de error"),
)


@dataclass(frozen=True)
class Created:
    ticket: Ticket
    created: bool
    links: TicketLinks | None = None  # known when created; a replay (created=False) has none
    # When created: its whole history as written, in order (nothing else can have written to a
    # ticket that did not exist before this transaction), so the answer needs no read back.
    history: list[TicketEvent] | None = None


def scope_of(principal: Principal) -> str:
    """Whose `Idempotency-Key`s these are: a contact (its widget, or the assistant on its behalf),
    an agent, or the action server's plain service token (issue #13 F5: keys were global)."""
    if principal.role == "customer":
        if principal.contact_id is not None:
            return f"contact:{principal.contact_id}"
        return f"customer:{principal.customer_id}"
    if principal.agent_id is not None:
        return f"agent:{principal.agent_id}"
    return principal.role


def scoped_key(scope: str, key: str) -> str:
    """The stored key: the caller's scope and a digest of its key (fits the 128-character column;
    keys stored before scoping match no caller, so an old key cannot fetch a ticket)."""
    return f"{scope}:{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}"[:128]


def _number(ticket: Ticket, now: datetime) -> str:
    return f"PL-{now.year}-{ticket.id:06d}"


async def create_ticket(
    *,
    session: AsyncSession,
    draft: TicketDraft,
    author: str,
    now: datetime,
    idempotency_key: str | None = None,
    idempotency_scope: str = "",
) -> Created:
    """Record an incident: classify P1–P4, route to L1/L2/L3, schedule the first update.

    A repeated `idempotency_key` of the same `idempotency_scope` (the caller: `scope_of`) returns
    the ticket already created (created=False); another caller's same key is another ticket.
    """
    draft.validate()
    key = _stored_key(idempotency_key, idempotency_scope)
    ticket_id: int | None = None
    if key is not None:
        existing, ticket_id = await _by_key(session, key, with_next_id=True)
        if existing is not None:
            return Created(existing, created=False)
    parties = await load_parties(session=session, draft=draft)
    decided = classify(draft, parties.customer, now=now)
    ticket = _new_ticket(draft, parties, decided, key, now)
    schedule_next_update(ticket, parties.customer, now=now)
    # The number is made from the id taken first, so the INSERT writes it (no UPDATE after).
    ticket.id = ticket_id if ticket_id is not None else await next_id(session, Ticket)
    ticket.number = _number(ticket, now)
    replayed = await _insert(session, ticket, key)
    if replayed is not None:
        return Created(replayed, created=False)
    # The creation's entries in one Core statement (nothing reads their ids), before a bug's or
    # an RMA's entry so the history keeps this order.
    entries = _creation_entries(ticket, draft, decided, parties.related, author, now)
    await (await session.connection()).execute(_INSERT_EVENTS, entries)
    links = await set_off(session, ticket, decided.routing, related=parties.related, author=author, now=now)
    history = [TicketEvent(**e) for e in entries if e["ticket_id"] == ticket.id]
    return Created(ticket, created=True, links=links, history=history + written_for(session, ticket.id))


def _stored_key(idempotency_key: str | None, scope: str) -> str | None:
    if idempotency_key is None:
        return None
    if not 0 < len(idempotency_key) <= 128:
        raise InvalidInput("Idempotency-Key must be 1-128 characters", public="La clave de idempotencia no es válida.")
    return scoped_key(scope, idempotency_key)


# The create's Core statements, built once (and their cache keys computed once).
_TICKETS = cast(Table, Ticket.__table__)
_EVENTS = cast(Table, TicketEvent.__table__)
_BY_KEY = select(_TICKETS.c.id).where(_TICKETS.c.idempotency_key == bindparam("key"))
_BY_KEY_AND_NEXT_ID = select(_BY_KEY.scalar_subquery(), sqlite_next_id(_TICKETS))  # SQLite
_INSERT_TICKET = insert(_TICKETS)
# PostgreSQL: the INSERT that yields to a concurrent retry's ticket (no id returned then).
_INSERT_TICKET_UNLESS_KEY = (
    postgresql.insert(_TICKETS)
    .on_conflict_do_nothing(index_elements=[_TICKETS.c.idempotency_key])
    .returning(_TICKETS.c.id)
)
_INSERT_EVENTS = insert(_EVENTS)
# (attribute, column) of every column of a ticket: what its INSERT writes (`_insert`).
_TICKET_COLUMNS = [(prop.key, prop.columns[0]) for prop in Ticket.__mapper__.column_attrs]


async def _by_key(session: AsyncSession, key: str, *, with_next_id: bool = False) -> tuple[Ticket | None, int | None]:
    """The ticket already created with `key` (None: a new key), and with `with_next_id` on SQLite
    the id a new ticket gets (`infra.db.next_id`), read by the same statement; else None.

    The id first, as a Core query (the usual answer is none), the ticket with its joined rows on
    a replay. PostgreSQL's id is a `nextval` taken only when the ticket is created: a replay
    takes none.
    """
    connection = await session.connection()
    if with_next_id and connection.dialect.name == "sqlite":
        await session.flush()  # as `next_id`: a pending ticket row counts
        existing, new_id = (await connection.execute(_BY_KEY_AND_NEXT_ID, {"key": key})).one()
    else:
        existing, new_id = await connection.scalar(_BY_KEY, {"key": key}), None
    if existing is not None:
        return await session.get(Ticket, existing), None
    return None, new_id


def _new_ticket(
    draft: TicketDraft, parties: Parties, decided: Classification, key: str | None, now: datetime
) -> Ticket:
    ticket = Ticket(
        customer_id=draft.customer_id,
        contact_id=draft.contact_id,
        reporter_email=draft.reporter_email,
        device_id=draft.device_id,
        device_text=draft.device_text,
        serial=draft.serial,
        version=draft.version,
        error_message=draft.error_message,
        since=draft.since,
        related_ticket_id=draft.related_ticket_id,
        conversation_id=draft.conversation_id,
        channel=draft.channel,
        type=draft.type,
        title=draft.title.strip(),
        description=draft.description,
        facts=draft.facts.as_dict(),
        priority=decided.priority.priority,
        priority_reason=decided.priority.reason,
        tier=decided.routing.tier,
        status="new",
        verified=draft.verified,
        covered=decided.covered,
        coverage_note=decided.coverage_note,
        idempotency_key=key,
        created_at=now,
        updated_at=now,
        breach_count=0,
    )
    ticket.customer, ticket.contact, ticket.device = parties.customer, parties.contact, parties.device
    return ticket


async def _insert(session: AsyncSession, ticket: Ticket, key: str | None) -> Ticket | None:
    """Write `ticket`; None, or the ticket a concurrent retry with the same key wrote first.

    On SQLite the write lock is held since BEGIN IMMEDIATE: nobody can insert the same key
    between the look-up and this INSERT. On PostgreSQL a concurrent retry may: the INSERT does
    nothing on a conflict of its key (`ON CONFLICT DO NOTHING`, after the other transaction
    commits), and this one returns that ticket instead of failing.
    """
    connection = await session.connection()
    # Every column is written, those the draft left empty as NULL (what the ORM's INSERT leaves
    # them); the object then holds exactly the row, so nothing of it needs loading later.
    for attr, _column in _TICKET_COLUMNS:
        if attr not in ticket.__dict__:
            setattr(ticket, attr, None)
    row = {column.key: getattr(ticket, attr) for attr, column in _TICKET_COLUMNS}
    # A Core INSERT instead of the ORM's unit of work (flush, dependency sort, post-fetch).
    if key is not None and connection.dialect.name == "postgresql":
        if await connection.scalar(_INSERT_TICKET_UNLESS_KEY, row) is None:
            existing = (await _by_key(session, key))[0]
            if existing is None:  # the conflicting row is committed: it is there to read
                raise RuntimeError(f"ticket with idempotency key {key} not found after a conflict")
            return existing
    else:
        try:
            await connection.execute(_INSERT_TICKET, row)
        except IntegrityError:
            existing = (await _by_key(session, key))[0] if key is not None else None
            if existing is None:
                raise
            return existing
    # The row is written: the object joins the session as the persistent ticket of that id, as
    # the flush would have left it (later changes to it are flushed as UPDATEs).
    make_transient_to_detached(ticket)
    session.add(ticket)
    return None


def _creation_entries(
    ticket: Ticket, draft: TicketDraft, decided: Classification, related: Ticket | None, author: str, now: datetime
) -> list[dict[str, Any]]:
    """The new ticket's first history: created, prioritized, routed, coverage, quote, links."""
    decision, routing = decided.priority, decided.routing
    created = f"Tiquete registrado por {CHANNEL_NAMES[draft.channel]}: {ticket.title}"
    entries = [
        entry(
            ticket,
            now,
            "created",
            author,
            public=True,
            text=created,
            data={"channel": draft.channel, "type": draft.type, "verified": draft.verified},
        ),
        entry(
            ticket,
            now,
            "prioritized",
            "system",
            text=decision.reason,
            data={"priority": decision.priority, "facts": draft.facts.as_dict()},
        ),
        entry(ticket, now, "routed", "system", text=routing.reason, data={"tier": routing.tier, "rule": routing.rule}),
    ]
    if not decided.covered:
        entries.append(entry(ticket, now, "coverage", "system", public=True, text=decided.coverage_note))
    if routing.quote_request:
        quote = "Solicitud de cotización de hardware para Soporte de Nivel 1 (sin contrato de hardware)."
        entries.append(entry(ticket, now, "quote_request", "system", text=quote))
    if related is not None:
        entries += _link_entries(ticket, related, now, author)
    return entries


def _about(ticket: Ticket) -> str:
    """A ticket in a few words, for the other ticket's history: «alarma SNMP» or its title."""
    return "alarma SNMP" if ticket.channel == "snmp" else f"«{ticket.title}»"


def _link_entries(ticket: Ticket, related: Ticket, now: datetime, author: str) -> list[dict[str, Any]]:
    """The public `linked` entries of both tickets (the customer sees them in either)."""
    related.updated_at = now
    return [
        entry(
            a,
            now,
            "linked",
            author,
            public=True,
            text=f"Relacionado con el tiquete {b.number} ({_about(b)}).",
            data={"ticket": b.number},
        )
        for a, b in ((ticket, related), (related, ticket))
    ]


async def get_ticket(*, session: AsyncSession, number: str) -> Ticket:
    ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None:
        raise NotFound(f"ticket {number} not found", public="El tiquete no existe.")
    return ticket
