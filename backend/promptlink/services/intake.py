"""Incident intake: what a caller says about an incident, read into a `TicketDraft`.

The chat assistant (service token on behalf of a contact), the widget, the API and the
console send one body to `POST /api/v1/tickets` and `POST /api/v1/tickets/preview`. This
module reads it from untrusted JSON: types and bounds, the device as the customer names
it (a registered device, or its words in `device_text`), since when (ISO 8601 with an
offset), the related ticket (same customer); and finds what a preview shows: the
classification and the customer's open tickets about the same equipment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Contact, Customer, Device, Ticket
from promptlink.services.auth import Principal
from promptlink.services.devices import customer_devices, match_device, squash
from promptlink.services.errors import InvalidInput
from promptlink.services.ticket_classification import Parties, classify, load_parties
from promptlink.services.ticket_queries import contact_by_email, customer_by_code, ticket_by_number
from promptlink.services.ticket_rules import IncidentFacts
from promptlink.services.tickets import MAX_DEVICE_TEXT, TicketDraft
from promptlink.vocabulary import OPEN_STATUSES

# A customer's clock may run a little ahead of ours; beyond this, «since» is in the future.
SINCE_SKEW = timedelta(minutes=10)
MAX_DUPLICATES = 3
# Open tickets of a customer without a registered device that a preview compares by text.
DEVICE_TEXT_SCAN = 200
PREVIEW_TITLE = "(vista previa)"  # a preview may come before the customer gave a title
TEXT_FIELDS = {  # body field -> its Spanish name in error messages
    "device": "El equipo",
    "device_text": "El nombre del equipo",
    "serial": "El número de serie",
    "version": "La versión",
    "error_message": "El mensaje de error",
    "related_ticket": "El tiquete relacionado",
}


def _optional_text(data: dict[str, Any], name: str, *, limit: int | None = None) -> str | None:
    """A trimmed string field of the body, None when absent, null or blank; 422 when not text."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string", public=f"{TEXT_FIELDS[name]} debe ser texto.")
    value = value.strip()
    if limit is not None and len(value) > limit:
        raise InvalidInput(
            f"{name} longer than {limit} characters",
            public=f"{TEXT_FIELDS[name]} admite como máximo {limit} caracteres.",
        )
    return value or None


def parse_since(value: Any, *, now: datetime) -> datetime | None:
    """Since when the problem happens: ISO 8601 with a UTC offset (or Z), stored as UTC."""
    if value is None or value == "":
        return None
    public = (
        "Indique desde cuándo ocurre el problema como fecha y hora con zona horaria "
        "(ISO 8601, p. ej. 2026-11-25T10:00-05:00)."
    )
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidInput("since must be an ISO 8601 datetime string with a UTC offset", public=public)
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(f"since is not an ISO 8601 datetime: {value[:64]!r}", public=public) from exc
    if when.utcoffset() is None:
        raise InvalidInput("since must carry a UTC offset (e.g. -05:00 or Z)", public=public)
    when = when.astimezone(UTC)
    if when > now + SINCE_SKEW:
        raise InvalidInput("since is in the future", public="La fecha de inicio del problema no puede ser futura.")
    return when


async def _device(
    session: AsyncSession, data: dict[str, Any], customer_id: int | None, *, strict: bool
) -> tuple[Device | None, str | None]:
    """(registered device, the customer's words) for the body's `device` and `device_text`.

    A name that matches none of the customer's devices is kept as `device_text`, except for
    `strict` callers (staff pick the device from the customer's list: a miss is a mistake).
    """
    name = _optional_text(data, "device", limit=MAX_DEVICE_TEXT)
    text = _optional_text(data, "device_text", limit=MAX_DEVICE_TEXT)
    if name is None and text is None:
        return None, None
    if customer_id is None:
        return None, text or name  # an unverified reporter owns no registered device
    devices = await customer_devices(session=session, customer_id=customer_id)
    if name is not None:
        device = match_device(devices, name)
        if device is None and strict:
            raise InvalidInput(f"unknown device {name}", public="El equipo no pertenece al cliente.")
    else:
        device = match_device(devices, text or "")
    if device is None:
        return None, text or name
    return device, None


async def _related(session: AsyncSession, value: Any, customer_id: int | None) -> Ticket | None:
    """The related ticket (by number), which must be the same customer's."""
    number = _optional_text({"related_ticket": value}, "related_ticket", limit=32)
    if number is None:
        return None
    number = number.upper()
    ticket = await ticket_by_number(session, number)
    # Another company's ticket does not exist for this one: the same answer as a wrong number.
    if ticket is None or customer_id is None or ticket.customer_id != customer_id:
        raise InvalidInput(
            f"related ticket {number} not found for this customer", public="El tiquete relacionado no existe."
        )
    return ticket


async def _customer_and_contact(session: AsyncSession, data: dict[str, Any]) -> tuple[Customer, Contact | None]:
    """Staff and the bare service token name the customer (and contact) in the body."""
    customer: Customer | None = None
    contact: Contact | None = None
    code = data.get("customer")
    if code is not None:
        customer = await customer_by_code(session, str(code), contracts=True)
        if customer is None:
            raise InvalidInput(f"unknown customer {code}", public="El cliente no existe.")
    email = data.get("contact")
    if email is not None:
        contact = await contact_by_email(session, str(email))
        if contact is None or (customer is not None and contact.customer_id != customer.id):
            raise InvalidInput(f"unknown contact {email}", public="El contacto no existe para ese cliente.")
        customer = contact.customer
    if customer is None:
        raise InvalidInput("customer is required", public="Indique el cliente.")
    return customer, contact


@dataclass(frozen=True)
class Intake:
    """A request body read: the draft, and the rows the body named as they were found.

    While the caller holds `found`, those rows stay in the session's identity map (it keeps
    only weak references): `load_parties` then gets them for the preview or the creation
    without a second query.
    """

    draft: TicketDraft
    found: Parties


async def read_body(
    *, session: AsyncSession, caller: Principal, data: dict[str, Any], now: datetime, preview: bool = False
) -> Intake:
    """The draft a request body describes, as `caller` may file it.

    A customer (widget token, or the service token on behalf of a contact) files for its own
    company whatever the body says; staff and the service token name the customer.
    """
    customer: Customer | None = None
    contact: Contact | None = None
    customer_id: int | None
    if caller.role == "customer":
        customer_id, contact_id = caller.customer_id, caller.contact_id
        channel = "chat" if data.get("channel") == "chat" else "api"
    else:
        channel = data.get("channel", "phone" if caller.is_staff else "chat")
        customer, contact = await _customer_and_contact(session, data)
        customer_id, contact_id = customer.id, contact.id if contact else None
    device, device_text = await _device(session, data, customer_id, strict=caller.is_staff)
    related = await _related(session, data.get("related_ticket"), customer_id)
    complex_case = data.get("complex", False)
    if not isinstance(complex_case, bool):
        raise InvalidInput("complex must be true or false", public="Parámetro no válido.")
    conversation_id = data.get("conversation_id") if caller.role in ("service", "customer") else None
    title = data.get("title", "")
    if preview and title in (None, ""):
        title = PREVIEW_TITLE
    description = data.get("description")
    draft = TicketDraft(
        channel=channel,
        type=data.get("type", "information"),
        title=title,
        description="" if description is None else description,
        facts=IncidentFacts.from_dict(data.get("facts")),
        complex_case=complex_case,
        customer_id=customer_id,
        contact_id=contact_id,
        device_id=device.id if device else None,
        conversation_id=conversation_id if isinstance(conversation_id, str) else None,
        device_text=device_text,
        serial=_optional_text(data, "serial"),
        version=_optional_text(data, "version"),
        error_message=_optional_text(data, "error_message"),
        since=parse_since(data.get("since"), now=now),
        related_ticket_id=related.id if related else None,
    )
    return Intake(draft, Parties(customer, contact, device, related))


async def draft_from_body(
    *, session: AsyncSession, caller: Principal, data: dict[str, Any], now: datetime, preview: bool = False
) -> TicketDraft:
    """`read_body`'s draft alone."""
    return (await read_body(session=session, caller=caller, data=data, now=now, preview=preview)).draft


@dataclass(frozen=True)
class Preview:
    """What creating the draft would decide, and the customer's open tickets it may repeat."""

    priority: int
    priority_reason: str
    tier: str
    routing_rule: str
    routing_reason: str
    device: Device | None
    device_text: str | None
    covered: bool
    coverage_note: str
    duplicates: list[Ticket]


async def preview_ticket(*, session: AsyncSession, draft: TicketDraft, now: datetime) -> Preview:
    """Classify `draft` as `create_ticket` would, without writing anything."""
    draft.validate()
    parties = await load_parties(session=session, draft=draft)
    decided = classify(draft, parties.customer, now=now)
    duplicates = (
        await open_duplicates(
            session=session, customer_id=draft.customer_id, device_id=draft.device_id, device_text=draft.device_text
        )
        if draft.customer_id is not None
        else []
    )
    return Preview(
        priority=decided.priority.priority,
        priority_reason=decided.priority.reason,
        tier=decided.routing.tier,
        routing_rule=decided.routing.rule,
        routing_reason=decided.routing.reason,
        device=parties.device,
        device_text=draft.device_text,
        covered=decided.covered,
        coverage_note=decided.coverage_note,
        duplicates=duplicates,
    )


async def open_duplicates(
    *,
    session: AsyncSession,
    customer_id: int,
    device_id: int | None,
    device_text: str | None,
    limit: int = MAX_DUPLICATES,
) -> list[Ticket]:
    """The customer's open tickets (any channel, SNMP alarms too) about the same equipment, newest first.

    The same registered device, or without one, the same device text once squashed.
    """
    query = select(Ticket).where(Ticket.customer_id == customer_id, Ticket.status.in_(OPEN_STATUSES))
    newest = (Ticket.created_at.desc(), Ticket.id.desc())
    if device_id is not None:
        return list(await session.scalars(query.where(Ticket.device_id == device_id).order_by(*newest).limit(limit)))
    wanted = squash(device_text or "")
    if not wanted:
        return []
    rows = await session.scalars(
        query.where(Ticket.device_id.is_(None), Ticket.device_text.is_not(None))
        .order_by(*newest)
        .limit(DEVICE_TEXT_SCAN)
    )
    return [t for t in rows if squash(t.device_text or "") == wanted][:limit]
