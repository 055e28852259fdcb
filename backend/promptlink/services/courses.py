"""On-site training requests (docs/support-plan.md#courses, «Servicios de Capacitación»).

Courses are on site, for up to six attendees, two days long. The customer provides the
room and technical facilities (projector, whiteboard, workstations with Internet);
Promptlink tells the customer what material is needed two weeks before the date. A
date less than two weeks away is still recorded, but flagged as short notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Contact, Customer, TrainingRequest
from promptlink.models.course import DURATION_DAYS, MATERIALS_NOTICE_DAYS, MAX_ATTENDEES
from promptlink.services.auth import Principal
from promptlink.services.errors import InvalidInput, NotFound
from promptlink.services.outbox import enqueue_email
from promptlink.services.spanish import date_in_words, plural

MAX_SITE = 300
MAX_TOPICS = 5_000
MAX_DAYS_AHEAD = 730
STATUSES = ("requested", "confirmed", "completed", "cancelled")
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"confirmed", "cancelled"}),
    "confirmed": frozenset({"completed", "cancelled"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
}
STATUS_NAMES = {
    "requested": "solicitada",
    "confirmed": "confirmada",
    "completed": "realizada",
    "cancelled": "cancelada",
}
# Checklist key → (model column, what the customer must provide, in Spanish).
FACILITIES: dict[str, tuple[str, str]] = {
    "room": ("has_room", "sala"),
    "projector": ("has_projector", "proyector"),
    "whiteboard": ("has_whiteboard", "pizarra"),
    "workstations_internet": ("has_workstations_internet", "áreas de trabajo con acceso a Internet"),
}


def local_today(customer: Customer, now: datetime) -> date:
    """The date at the customer's site (its timezone)."""
    return now.astimezone(ZoneInfo(customer.timezone)).date()


def missing_facilities(request: TrainingRequest) -> list[str]:
    """Checklist keys the customer has not confirmed yet."""
    return [key for key, (column, _name) in FACILITIES.items() if not getattr(request, column)]


def facilities_reminder(request: TrainingRequest) -> str | None:
    """A Spanish reminder of what the customer still has to provide, or None when all is confirmed."""
    missing = [FACILITIES[key][1] for key in missing_facilities(request)]
    if not missing:
        return None
    return (
        "Recuerde que su empresa debe proveer para la capacitación: " + ", ".join(missing) + ". "
        "Sin estas facilidades no podemos garantizar una capacitación adecuada."
    )


def _requested_date(value: Any, today: date) -> date:
    if not isinstance(value, str):
        raise InvalidInput("requested_date must be an ISO date", public="Indique la fecha en formato AAAA-MM-DD.")
    try:
        day = date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(
            "requested_date must be an ISO date", public="Indique la fecha en formato AAAA-MM-DD."
        ) from exc
    if day <= today:
        raise InvalidInput(
            "requested_date must be in the future", public="La fecha de la capacitación debe ser futura."
        )
    if (day - today).days > MAX_DAYS_AHEAD:
        raise InvalidInput(
            f"requested_date more than {MAX_DAYS_AHEAD} days ahead",
            public="La fecha debe estar dentro de los próximos dos años.",
        )
    return day


def _attendees(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("attendees must be an integer", public="Indique el número de asistentes (de 1 a 6).")
    if value > MAX_ATTENDEES:
        raise InvalidInput(
            f"on-site courses take at most {MAX_ATTENDEES} attendees",
            public="Los cursos en sitio admiten hasta seis asistentes.",
        )
    if value < 1:
        raise InvalidInput("attendees must be at least 1", public="Indique al menos un asistente.")
    return value


def _text(value: Any, *, what: str, limit: int, public: str, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        qualifier = "is required, as" if required else "must be"
        raise InvalidInput(f"{what} {qualifier} text of at most {limit} characters", public=public)
    return value.strip()


def _facilities(value: Any) -> dict[str, bool]:
    if value is None:
        value = {}
    if not isinstance(value, dict) or set(value) - set(FACILITIES):
        raise InvalidInput(
            f"facilities must be an object with {', '.join(FACILITIES)}",
            public="La lista de facilidades no es válida.",
        )
    if any(not isinstance(v, bool) for v in value.values()):
        raise InvalidInput("each facility must be true or false", public="La lista de facilidades no es válida.")
    return {key: bool(value.get(key, False)) for key in FACILITIES}


async def request_training(
    *,
    session: AsyncSession,
    customer: Customer,
    contact: Contact | None,
    requested_date: Any,
    attendees: Any,
    site: Any,
    topics: Any,
    facilities: Any,
    now: datetime,
) -> TrainingRequest:
    """Record an on-site training request (two days, up to six attendees)."""
    today = local_today(customer, now)
    day = _requested_date(requested_date, today)
    checklist = _facilities(facilities)
    request = TrainingRequest(
        customer_id=customer.id,
        contact_id=contact.id if contact is not None else None,
        requested_date=day,
        attendees=_attendees(attendees),
        duration_days=DURATION_DAYS,
        site=_text(site, what="site", limit=MAX_SITE, public="Indique el lugar de la capacitación.", required=True),
        topics=_text(topics, what="topics", limit=MAX_TOPICS, public="Los temas son demasiado largos.", required=False),
        short_notice=(day - today).days < MATERIALS_NOTICE_DAYS,
        materials_notice_due=day - timedelta(days=MATERIALS_NOTICE_DAYS),
        status="requested",
        created_at=now,
        **{FACILITIES[key][0]: present for key, present in checklist.items()},
    )
    session.add(request)
    await session.flush()
    return request


class TrainingRow(NamedTuple):
    """A training request with the customer code and requesting contact it is shown with."""

    request: TrainingRequest
    customer_code: str
    contact_email: str | None


@dataclass(frozen=True)
class TrainingFilter:
    customer_id: int | None = None
    status: str | None = None


def _rows_query() -> Select[tuple[TrainingRequest, str, str]]:
    # An outer join: the contact e-mail is None for a request made without one.
    return (
        select(TrainingRequest, Customer.code, Contact.email)
        .join(Customer, Customer.id == TrainingRequest.customer_id)
        .outerjoin(Contact, Contact.id == TrainingRequest.contact_id)
    )


async def requester(
    *, session: AsyncSession, customer_code: Any, contact_email: Any
) -> tuple[Customer, Contact | None]:
    """The customer (by code) and, optionally, its contact (by e-mail) a request is made for."""
    if not isinstance(customer_code, str) or not customer_code.strip():
        raise InvalidInput("customer is required", public="Indique el cliente.")
    customer = await session.scalar(select(Customer).where(Customer.code == customer_code.strip()))
    if customer is None:
        raise InvalidInput(f"unknown customer {customer_code}", public="El cliente no existe.")
    if contact_email is None:
        return customer, None
    contacts = await customer.awaitable_attrs.contacts
    contact = next(
        (c for c in contacts if isinstance(contact_email, str) and c.email == contact_email.strip().lower()),
        None,
    )
    if contact is None:
        raise InvalidInput(f"unknown contact {contact_email}", public="El contacto no existe para ese cliente.")
    return customer, contact


async def requester_for(
    *, session: AsyncSession, caller: Principal, customer_code: Any, contact_email: Any
) -> tuple[Customer, Contact | None]:
    """Who `caller` asks for: a customer for its own company (naming another is 404, as an unknown
    one), with its contact; staff and the action server name the customer (and contact)."""
    if caller.role != "customer":
        return await requester(session=session, customer_code=customer_code, contact_email=contact_email)
    customer = await session.get(Customer, caller.customer_id)
    if customer is None or customer_code not in (None, customer.code):
        raise NotFound(f"customer {customer_code} not found", public="El cliente no existe.")
    contact = await session.get(Contact, caller.contact_id) if caller.contact_id is not None else None
    return customer, contact


async def list_training_requests(
    *, session: AsyncSession, filters: TrainingFilter, limit: int = 50, offset: int = 0
) -> list[TrainingRow]:
    """Training requests, soonest date first."""
    q = _rows_query()
    if filters.customer_id is not None:
        q = q.where(TrainingRequest.customer_id == filters.customer_id)
    if filters.status is not None:
        if filters.status not in STATUSES:
            raise InvalidInput(f"unknown status {filters.status!r}", public="Filtro de estado no válido.")
        q = q.where(TrainingRequest.status == filters.status)
    rows = await session.execute(
        q.order_by(TrainingRequest.requested_date, TrainingRequest.id)
        .limit(max(1, min(limit, 200)))
        .offset(max(0, offset))
    )
    return [TrainingRow(*row) for row in rows.tuples()]


async def get_training_request(*, session: AsyncSession, request_id: int) -> TrainingRow:
    row = (await session.execute(_rows_query().where(TrainingRequest.id == request_id))).tuples().first()
    if row is None:
        raise NotFound(f"training request {request_id} not found", public="La solicitud de capacitación no existe.")
    return TrainingRow(*row)


def change_status(request: TrainingRequest, status: Any) -> TrainingRequest:
    """Confirm, complete or cancel a training request."""
    if not isinstance(status, str) or status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}", public="El estado no es válido.")
    if status not in STATUS_TRANSITIONS[request.status]:
        raise InvalidInput(
            f"a training request cannot go from {request.status} to {status}",
            public=f"La capacitación no puede pasar de «{STATUS_NAMES[request.status]}» a «{STATUS_NAMES[status]}».",
        )
    request.status = status
    return request


def _materials_notice(customer: Customer, request: TrainingRequest) -> tuple[str, str]:
    last_day = request.requested_date + timedelta(days=request.duration_days - 1)
    opening = (
        "Faltan menos de dos semanas para su capacitación en sitio; le indicamos cuanto antes el material necesario."
        if request.short_notice
        else "Faltan dos semanas para su capacitación en sitio; le indicamos el material necesario."
    )
    lines = [
        f"Estimado cliente de {customer.name}:",
        "",
        opening,
        "",
        f"Fechas: del {date_in_words(request.requested_date)} al {date_in_words(last_day)} "
        f"({plural(request.duration_days, 'día', 'días')})",
        f"Lugar: {request.site}",
        f"Asistentes: {request.attendees} (hasta seis)",
    ]
    if request.topics:
        lines.append(f"Temas: {request.topics}")
    lines += [
        "",
        "Para garantizar una capacitación adecuada, su empresa debe proveer:",
        "- una sala para el curso;",
        "- un proyector;",
        "- una pizarra;",
        "- áreas de trabajo con acceso a Internet para los asistentes;",
        "- y cualquier otro equipo que el curso pueda necesitar.",
        "",
        "Promptlink proveerá el material de trabajo y estudio para los participantes.",
    ]
    reminder = facilities_reminder(request)
    if reminder:
        lines += ["", f"Según su solicitud aún falta confirmar: {reminder}"]
    lines += ["", "Soporte Técnico Promptlink"]
    subject = f"Capacitación en sitio del {date_in_words(request.requested_date)}: material necesario"
    return subject, "\n".join(lines)


def _recipients(customer: Customer, request: TrainingRequest) -> list[str]:
    """The requesting contact and the customer's notification parties."""
    emails = [c.email for c in customer.contacts if c.id == request.contact_id]
    emails += [c.email for c in sorted(customer.contacts, key=lambda c: c.id) if c.notification_party]
    return list(dict.fromkeys(e.lower() for e in emails))


async def send_due_materials_notices(*, session: AsyncSession, now: datetime) -> int:
    """Queue the materials notice of every request whose notice is due (once); returns how many.

    Due means on or after `materials_notice_due` at the customer's site and before the
    course starts. A short-notice request is due at once.
    """
    latest_local_day = now.date() + timedelta(days=1)  # no timezone is more than a day ahead of UTC
    rows = await session.execute(
        select(TrainingRequest, Customer)
        .join(Customer, Customer.id == TrainingRequest.customer_id)
        .where(
            TrainingRequest.materials_notice_sent_at.is_(None),
            TrainingRequest.status.in_(("requested", "confirmed")),
            TrainingRequest.materials_notice_due <= latest_local_day,
            TrainingRequest.requested_date >= now.date() - timedelta(days=1),
        )
        .order_by(TrainingRequest.id)
    )
    sent = 0
    for request, customer in rows.tuples():
        today = local_today(customer, now)
        if not request.materials_notice_due <= today < request.requested_date:
            continue
        await customer.awaitable_attrs.contacts
        recipients = _recipients(customer, request)
        if not recipients:
            continue  # kept pending until the customer has someone to tell
        subject, text = _materials_notice(customer, request)
        for email in recipients:
            enqueue_email(
                session=session,
                to=email,
                subject=subject,
                body=text,
                now=now,
                headers={"X-Promptlink-Training-Request": str(request.id)},
            )
        request.materials_notice_sent_at = now
        sent += 1
    return sent
