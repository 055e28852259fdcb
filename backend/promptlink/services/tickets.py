"""The service incident system: create, classify, route, update and search tickets.

Every channel (chat, e-mail, phone, SNMP, API) goes through `create_ticket`; every
change is recorded in the ticket's append-only history (TicketEvent).
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Agent, Contact, Conversation, Customer, Device, Rma, Ticket, TicketEvent
from promptlink.models.agent import TIERS
from promptlink.models.ticket import CHANNELS, OPEN_STATUSES, STATUSES, TYPES
from promptlink.services.access import MAX_CONVERSATION_ID, owns_conversation
from promptlink.services.auth import Principal
from promptlink.services.bugs import open_bug
from promptlink.services.cadence import CADENCE_TEXT
from promptlink.services.entitlement import entitlement_for
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.notifications import inform_customer, schedule_next_update
from promptlink.services.outbox import enqueue_email
from promptlink.services.rules import IncidentFacts, PriorityDecision, RoutingDecision, classify_priority, route_ticket
from promptlink.services.search import contains_any
from promptlink.services.spanish import STATUS_NAMES, TIER_NAMES, datetime_in_words, zone_in_words
from promptlink.services.ticket_links import TicketLinks

MAX_TITLE = 300
MAX_TEXT = 10_000
# The intake's structured fields (what the customer says), each bounded like its column.
MAX_DEVICE_TEXT = 200
MAX_SERIAL = 100
MAX_VERSION = 50
MAX_ERROR_MESSAGE = 2_000
FASTEST_SHIPPING = "Envío urgente (el modo de envío más rápido disponible)"


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
    # The customer, contact and device objects the channel loaded in the same session, kept
    # referenced so create_ticket finds them in the session's identity map instead of querying.
    loaded: list[Any] = field(default_factory=list, repr=False, compare=False)

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


# (draft field, length limit, its Spanish name for error messages)
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


@dataclass(frozen=True)
class Parties:
    """The rows a draft names, loaded (and checked) once for a preview or a creation."""

    customer: Customer | None
    contact: Contact | None
    device: Device | None
    related: Ticket | None


@dataclass(frozen=True)
class Classification:
    """What the support plan decides for a draft: priority, tier and follow-ups, coverage."""

    priority: PriorityDecision
    routing: RoutingDecision
    covered: bool
    coverage_note: str


async def load_parties(*, session: AsyncSession, draft: TicketDraft) -> Parties:
    """The customer (with its contracts), contact, device and related ticket of `draft`.

    Usually already in the session (the channel looked them up): no query then.
    """
    customer = await session.get(Customer, draft.customer_id) if draft.customer_id is not None else None
    if draft.customer_id is not None and customer is None:
        raise InvalidInput(f"customer {draft.customer_id} does not exist", public="El cliente no existe.")
    if customer is not None:
        await customer.awaitable_attrs.contracts
    contact = await session.get(Contact, draft.contact_id) if draft.contact_id is not None else None
    if draft.contact_id is not None and contact is None:
        raise InvalidInput(f"contact {draft.contact_id} does not exist", public="El contacto no existe.")
    device = await session.get(Device, draft.device_id) if draft.device_id is not None else None
    if draft.device_id is not None and device is None:
        raise InvalidInput(f"device {draft.device_id} does not exist", public="El equipo no existe.")
    if draft.conversation_id is not None:
        # Updates go into this chat: it must be the customer's own (verified or identified) chat, and
        # the contact's when the ticket names one (issue #13 F6; `services.access`).
        conversation = (
            await session.get(Conversation, draft.conversation_id)
            if len(draft.conversation_id) <= MAX_CONVERSATION_ID
            else None
        )
        if conversation is None or not owns_conversation(
            conversation, customer_id=draft.customer_id, contact_id=draft.contact_id
        ):
            raise InvalidInput(
                f"conversation {draft.conversation_id[:64]} not found for this customer",
                public="La conversación no existe.",
            )
    related = None
    if draft.related_ticket_id is not None:
        related = await session.get(Ticket, draft.related_ticket_id)
        # Only a ticket of the same customer: another company's ticket does not exist for it.
        if related is None or customer is None or related.customer_id != customer.id:
            raise InvalidInput(
                f"related ticket {draft.related_ticket_id} not found for this customer",
                public="El tiquete relacionado no existe.",
            )
    return Parties(customer, contact, device, related)


def classify(draft: TicketDraft, customer: Customer | None, *, now: datetime) -> Classification:
    """Priority (rules/priority.yml), tier and follow-ups (rules/routing.yml) and coverage.

    `customer` has its contracts loaded (`load_parties`).
    """
    entitlement = entitlement_for(customer, on=now.date())
    covered, coverage_note = entitlement.covers(draft.type)
    decision = classify_priority(draft.facts)
    routing = route_ticket(
        ticket_type=draft.type,
        priority=decision.priority,
        complex_case=draft.complex_case,
        hardware_covered=entitlement.hardware,
    )
    return Classification(decision, routing, covered, coverage_note)


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
    if idempotency_key is not None:
        if not 0 < len(idempotency_key) <= 128:
            raise InvalidInput(
                "Idempotency-Key must be 1-128 characters", public="La clave de idempotencia no es válida."
            )
        idempotency_key = scoped_key(idempotency_scope, idempotency_key)
        existing = await session.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key))
        if existing is not None:
            return Created(existing, created=False)
    parties = await load_parties(session=session, draft=draft)
    customer, contact, device, related = parties.customer, parties.contact, parties.device, parties.related
    decided = classify(draft, customer, now=now)
    decision, routing, covered = decided.priority, decided.routing, decided.covered
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
        priority=decision.priority,
        priority_reason=decision.reason,
        tier=routing.tier,
        status="new",
        verified=draft.verified,
        covered=covered,
        coverage_note=decided.coverage_note,
        idempotency_key=idempotency_key,
        created_at=now,
        updated_at=now,
        breach_count=0,
    )
    ticket.customer, ticket.contact, ticket.device = customer, contact, device
    schedule_next_update(ticket, customer, now=now)
    # On SQLite the write lock is held since BEGIN IMMEDIATE: nobody can insert the same key
    # between the look-up above and this INSERT. Elsewhere a concurrent retry may: a savepoint
    # lets this transaction return that ticket instead of failing.
    guard = idempotency_key is not None and session.get_bind().dialect.name != "sqlite"
    try:
        async with session.begin_nested() if guard else contextlib.nullcontext():
            session.add(ticket)
            await session.flush()
    except IntegrityError:
        if idempotency_key is None:
            raise
        existing = await session.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key))
        if existing is None:
            raise
        return Created(existing, created=False)
    ticket.number = _number(ticket, now)
    entries = [
        _entry(
            ticket,
            now,
            "created",
            author,
            public=True,
            text=f"Tiquete registrado por {_channel_name(draft.channel)}: {ticket.title}",
            data={"channel": draft.channel, "type": draft.type, "verified": draft.verified},
        ),
        _entry(
            ticket,
            now,
            "prioritized",
            "system",
            text=decision.reason,
            data={"priority": decision.priority, "facts": draft.facts.as_dict()},
        ),
        _entry(ticket, now, "routed", "system", text=routing.reason, data={"tier": routing.tier, "rule": routing.rule}),
    ]
    if not covered:
        entries.append(_entry(ticket, now, "coverage", "system", public=True, text=decided.coverage_note))
    if routing.quote_request:
        entries.append(
            _entry(
                ticket,
                now,
                "quote_request",
                "system",
                text="Solicitud de cotización de hardware para Soporte de Nivel 1 (sin contrato de hardware).",
            )
        )
    if related is not None:
        entries += _link_entries(ticket, related, now, author)
    # The creation's entries in one statement (nothing reads their ids), before a bug's or an
    # RMA's entry so the history keeps this order.
    await session.execute(insert(TicketEvent), entries)
    bug = rma = None
    if routing.open_bug:
        bug = await open_bug(
            session=session,
            title=ticket.title,
            description=_bug_description(ticket),
            product=_product(ticket),
            version=ticket.version,
            author=author,
            now=now,
            ticket=ticket,
        )
    if routing.rma:
        rma = await _open_rma(session, ticket, now, author)
    await _acknowledge(session, ticket, now)
    links = TicketLinks(
        related_number=related.number if related else None,
        rma=rma,
        rma_device=_device_label(ticket) if rma else None,
        bug=bug,
    )
    return Created(ticket, created=True, links=links)


def _device_label(ticket: Ticket) -> str | None:
    """The device as shown: its registered name, else the customer's words."""
    return ticket.device.name if ticket.device else ticket.device_text


def _product(ticket: Ticket) -> str:
    """The bug tracker's product: the registered device's model, else what the customer called it."""
    return (ticket.device.model if ticket.device else ticket.device_text or "")[:100]


def _bug_description(ticket: Ticket) -> str:
    """The ticket's description with the details a developer needs (error message, since when)."""
    parts = [ticket.description.strip()] if ticket.description.strip() else []
    if ticket.error_message:
        parts.append(f"Mensaje de error: {ticket.error_message}")
    if ticket.since is not None:
        zone = ticket.customer.timezone if ticket.customer else "UTC"
        parts.append(f"Desde: {datetime_in_words(ticket.since, zone)} (hora de {zone_in_words(zone)})")
    return "\n\n".join(parts)[:MAX_TEXT]


def _about(ticket: Ticket) -> str:
    """A ticket in a few words, for the other ticket's history: «alarma SNMP» or its title."""
    return "alarma SNMP" if ticket.channel == "snmp" else f"«{ticket.title}»"


def _link_entries(ticket: Ticket, related: Ticket, now: datetime, author: str) -> list[dict[str, Any]]:
    """The public `linked` entries of both tickets (the customer sees them in either)."""
    related.updated_at = now
    return [
        _entry(
            ticket,
            now,
            "linked",
            author,
            public=True,
            text=f"Relacionado con el tiquete {related.number} ({_about(related)}).",
            data={"ticket": related.number},
        ),
        _entry(
            related,
            now,
            "linked",
            author,
            public=True,
            text=f"Relacionado con el tiquete {ticket.number} ({_about(ticket)}).",
            data={"ticket": ticket.number},
        ),
    ]


def _channel_name(channel: str) -> str:
    return {"chat": "chat", "email": "correo electrónico", "phone": "teléfono", "snmp": "trampa SNMP", "api": "API"}[
        channel
    ]


def _entry(
    ticket: Ticket,
    now: datetime,
    kind: str,
    author: str,
    *,
    text: str,
    public: bool = False,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A history entry as a row for a multi-row INSERT."""
    return {
        "ticket_id": ticket.id,
        "at": now,
        "kind": kind,
        "public": public,
        "author": author,
        "text": text,
        "data": data or {},
    }


def _log(
    session: AsyncSession,
    ticket: Ticket,
    now: datetime,
    kind: str,
    author: str,
    *,
    text: str,
    public: bool = False,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    event = TicketEvent(**_entry(ticket, now, kind, author, text=text, public=public, data=data))
    session.add(event)
    return event


async def _open_rma(session: AsyncSession, ticket: Ticket, now: datetime, author: str) -> Rma:
    # The serial the customer gave (the unit it has in hand), else the registered device's.
    serial = ticket.serial or (ticket.device.serial if ticket.device else "")
    rma = Rma(
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        device_id=ticket.device_id,
        device_text=None if ticket.device else ticket.device_text,
        serial=serial,
        shipping_method=FASTEST_SHIPPING,
        status="requested",
        created_at=now,
        updated_at=now,
    )
    session.add(rma)
    await session.flush()
    rma.number = f"RMA-{now.year}-{rma.id:06d}"
    _log(
        session,
        ticket,
        now,
        "rma",
        author,
        public=True,
        text=f"Sustitución de hardware {rma.number} solicitada con {FASTEST_SHIPPING.lower()}.",
        data={"rma": rma.number},
    )
    return rma


async def _acknowledge(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    """Confirm the new ticket to the reporter (the first update comes on the seed's cadence)."""
    to = ticket.contact.email if ticket.contact else ticket.reporter_email
    if not to or not ticket.verified:
        # An unverified reporter gets the intake channel's own reply (under review), not this one.
        return
    lines = [
        f"Hemos registrado su tiquete {ticket.number}: {ticket.title}",
        *_details_lines(ticket),
        f"Prioridad: P{ticket.priority}. Lo atiende: {TIER_NAMES[ticket.tier]}.",
        f"Le informaremos {CADENCE_TEXT[ticket.priority]} hasta su resolución.",
    ]
    if not ticket.covered:
        lines.append(ticket.coverage_note)
    lines.append("\nPara añadir información, responda a este correo conservando el número en el asunto.")
    enqueue_email(
        session=session,
        to=to,
        subject=f"[{ticket.number}] Tiquete registrado: {ticket.title}",
        body="\n".join(lines) + "\nSoporte Técnico Promptlink",
        now=now,
        ticket_id=ticket.id,
        headers={"Auto-Submitted": "auto-replied"},  # auto-responders must not answer it (RFC 3834)
    )


def _details_lines(ticket: Ticket) -> list[str]:
    """What the customer told us, as we recorded it (dates in words, in its time zone)."""
    zone = ticket.customer.timezone if ticket.customer else "UTC"
    details = [
        ("Equipo", _device_label(ticket)),
        ("Número de serie", ticket.serial),
        ("Versión", ticket.version),
        ("Mensaje de error", ticket.error_message),
        ("Desde", f"{datetime_in_words(ticket.since, zone)} (hora de {zone_in_words(zone)})" if ticket.since else None),
    ]
    return [f"{label}: {value}" for label, value in details if value]


async def get_ticket(*, session: AsyncSession, number: str) -> Ticket:
    ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None:
        raise NotFound(f"ticket {number} not found", public="El tiquete no existe.")
    return ticket


async def history(*, session: AsyncSession, ticket: Ticket, public_only: bool = False) -> list[TicketEvent]:
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    if public_only:
        query = query.where(TicketEvent.public.is_(True))
    return list(await session.scalars(query.order_by(TicketEvent.id)))


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} is required", public="El texto está vacío.")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{what} longer than {MAX_TEXT} characters", public="El texto es demasiado largo.")
    return value.strip()


async def post_update(*, session: AsyncSession, ticket: Ticket, text: Any, author: str, now: datetime) -> TicketEvent:
    """A public update: reaches every notification party, is logged, moves next_update_due."""
    text = _text(text, "update text")
    if ticket.status == "new":
        ticket.status = "open"
    return await inform_customer(session=session, ticket=ticket, text=text, author=author, now=now)


async def add_note(*, session: AsyncSession, ticket: Ticket, text: Any, author: str, now: datetime) -> TicketEvent:
    """An internal note: logged, never shown to the customer."""
    ticket.updated_at = now
    return _log(session, ticket, now, "note", author, text=_text(text, "note text"))


async def change_priority(
    *,
    session: AsyncSession,
    ticket: Ticket,
    priority: int,
    reason: str,
    author: str,
    now: datetime,
) -> TicketEvent:
    """An agent's override of the classified priority; the reason is required and logged."""
    if priority not in (1, 2, 3, 4) or isinstance(priority, bool):
        raise InvalidInput("priority must be 1-4", public="La prioridad debe ser 1, 2, 3 o 4.")
    reason = _text(reason, "reason")
    previous = ticket.priority
    ticket.priority, ticket.priority_reason, ticket.updated_at = priority, reason, now
    schedule_next_update(ticket, ticket.customer, now=now)
    return _log(
        session,
        ticket,
        now,
        "priority_changed",
        author,
        public=True,
        text=f"Prioridad cambiada de P{previous} a P{priority}: {reason}",
        data={"from": previous, "to": priority, "reason": reason},
    )


async def change_tier(
    *,
    session: AsyncSession,
    ticket: Ticket,
    tier: str,
    reason: str,
    author: str,
    now: datetime,
) -> TicketEvent:
    if tier not in TIERS:
        raise InvalidInput("tier must be L1, L2 or L3", public="El nivel debe ser L1, L2 o L3.")
    reason = _text(reason, "reason")
    previous = ticket.tier
    ticket.tier, ticket.assignee_id, ticket.updated_at = tier, None, now
    return _log(
        session,
        ticket,
        now,
        "tier_changed",
        author,
        text=f"Transferido de {previous} a {tier}: {reason}",
        data={"from": previous, "to": tier, "reason": reason},
    )


async def change_status(
    *,
    session: AsyncSession,
    ticket: Ticket,
    status: str,
    author: str,
    now: datetime,
    resolution: str = "",
) -> TicketEvent:
    if status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}", public="El estado no es válido.")
    previous = ticket.status
    ticket.status, ticket.updated_at = status, now
    if status in ("resolved", "closed"):
        if not resolution.strip() and status == "resolved":
            raise InvalidInput("a resolution is required", public="Describa la resolución.")
        ticket.resolved_at = ticket.resolved_at or now
    elif previous not in OPEN_STATUSES:
        ticket.resolved_at = None  # reopened
    schedule_next_update(ticket, ticket.customer, now=now)
    text = f"Estado: {STATUS_NAMES[previous]} → {STATUS_NAMES[status]}."
    if resolution.strip():
        text += f" Resolución: {resolution.strip()}"
    if status == "resolved":
        return await inform_customer(
            session=session, ticket=ticket, text=text, author=author, now=now, kind="status_changed", move_cadence=False
        )
    return _log(
        session, ticket, now, "status_changed", author, public=True, text=text, data={"from": previous, "to": status}
    )


async def assign(
    *, session: AsyncSession, ticket: Ticket, agent: Agent | None, author: str, now: datetime
) -> TicketEvent:
    if agent is not None and ticket.tier not in agent.tier_list and agent.role == "agent":
        raise InvalidInput(
            f"agent {agent.email} is not in tier {ticket.tier}",
            public=f"El agente no pertenece al nivel {ticket.tier}.",
        )
    ticket.assignee_id, ticket.updated_at = (agent.id if agent else None), now
    return _log(
        session,
        ticket,
        now,
        "assigned",
        author,
        text=f"Asignado a {agent.name}." if agent else "Sin asignar.",
        data={"agent": agent.email if agent else None},
    )


@dataclass(frozen=True)
class TicketFilter:
    customer_id: int | None = None
    contact_id: int | None = None
    tiers: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    priority: int | None = None
    assignee_id: int | None = None
    overdue_at: datetime | None = None
    query: str = ""
    channel: str | None = None


def _filtered(f: TicketFilter) -> Select[tuple[Ticket]]:
    q = select(Ticket)
    if f.customer_id is not None:
        q = q.where(Ticket.customer_id == f.customer_id)
    if f.contact_id is not None:
        q = q.where(Ticket.contact_id == f.contact_id)
    if f.tiers:
        q = q.where(Ticket.tier.in_(f.tiers))
    if f.statuses:
        q = q.where(Ticket.status.in_(f.statuses))
    if f.priority is not None:
        q = q.where(Ticket.priority == f.priority)
    if f.assignee_id is not None:
        q = q.where(Ticket.assignee_id == f.assignee_id)
    if f.channel is not None:
        q = q.where(Ticket.channel == f.channel)
    if f.overdue_at is not None:
        q = q.where(Ticket.next_update_due.is_not(None), Ticket.next_update_due < f.overdue_at)
    if f.query:
        q = q.where(contains_any(f.query.strip()[:100], Ticket.number, Ticket.title, Ticket.description))
    return q


async def list_tickets(
    *, session: AsyncSession, filters: TicketFilter, limit: int = 50, offset: int = 0
) -> tuple[list[Ticket], int]:
    """A page of tickets (most urgent update first) and the total that match."""
    q = _filtered(filters)
    total = await session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = await session.scalars(
        q.order_by(Ticket.next_update_due.is_(None), Ticket.next_update_due, Ticket.priority, Ticket.id)
        .limit(max(1, min(limit, 200)))
        .offset(max(0, offset))
    )
    return list(rows), total


async def add_customer_message(
    *,
    session: AsyncSession,
    ticket: Ticket,
    text: Any,
    author: str,
    now: datetime,
    channel: str,
) -> TicketEvent:
    """Information the customer adds to its ticket (chat, e-mail reply, API)."""
    if ticket.status == "pending_customer":
        ticket.status = "open"
    ticket.updated_at = now
    return _log(
        session,
        ticket,
        now,
        "customer_message",
        author,
        public=True,
        text=_text(text, "message"),
        data={"channel": channel},
    )
