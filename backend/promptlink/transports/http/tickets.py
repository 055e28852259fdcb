"""`/api/v1/tickets`: the service incident system over REST."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ...db import transaction
from ...models import Agent, Contact, Customer, Device, Ticket
from ...models.ticket import OPEN_STATUSES, STATUSES
from ...services import tickets as svc
from ...services.auth import Forbidden, Principal
from ...services.errors import InvalidInput, NotFound
from ...services.rules import IncidentFacts
from .common import body, caller, event_json, int_arg, ticket_json

bp = Blueprint("tickets", url_prefix="/api/v1/tickets")
FORBIDDEN = "No tiene permiso para esta acción."


def _staff(p: Principal) -> None:
    if not p.is_staff:
        raise Forbidden(f"role {p.role} is not support staff", public=FORBIDDEN)


async def _visible(session: AsyncSession, p: Principal, number: str) -> Ticket:
    """The ticket if the caller may see it; customers get 404 for others' tickets."""
    ticket = await svc.get_ticket(session=session, number=number)
    if p.role == "customer" and ticket.customer_id != p.customer_id:
        raise NotFound(f"ticket {number} not found", public="El tiquete no existe.")
    return ticket


def _may_work(p: Principal, ticket: Ticket) -> None:
    _staff(p)
    if not p.may_work_tier(ticket.tier):
        raise Forbidden(
            f"{p.email} does not work tier {ticket.tier}", public=f"El tiquete pertenece al nivel {ticket.tier}."
        )


async def _draft(session: AsyncSession, p: Principal, data: dict[str, Any]) -> svc.TicketDraft:
    customer_id = contact_id = device_id = None
    loaded: list[Any] = []  # kept in the draft: create_ticket then finds them without a query
    if p.role == "customer":
        customer_id, contact_id = p.customer_id, p.contact_id
        channel = "chat" if data.get("channel") == "chat" else "api"
    else:
        channel = data.get("channel", "phone" if p.is_staff else "chat")
        code = data.get("customer")
        if code is not None:
            customer = await session.scalar(select(Customer).where(Customer.code == str(code)))
            if customer is None:
                raise InvalidInput(f"unknown customer {code}", public="El cliente no existe.")
            customer_id = customer.id
            loaded.append(customer)
        email = data.get("contact")
        if email is not None:
            contact = await session.scalar(select(Contact).where(Contact.email == str(email).strip().lower()))
            if contact is None or (customer_id is not None and contact.customer_id != customer_id):
                raise InvalidInput(f"unknown contact {email}", public="El contacto no existe para ese cliente.")
            contact_id, customer_id = contact.id, contact.customer_id
            loaded += [contact, contact.customer]
        if customer_id is None:
            raise InvalidInput("customer is required", public="Indique el cliente.")
    if data.get("device"):
        device = await session.scalar(select(Device).where(Device.name == str(data["device"])))
        if device is None or device.customer_id != customer_id:
            raise InvalidInput(f"unknown device {data['device']}", public="El equipo no pertenece al cliente.")
        device_id = device.id
        loaded.append(device)
    complex_case = data.get("complex", False)
    if not isinstance(complex_case, bool):
        raise InvalidInput("complex must be true or false", public="Parámetro no válido.")
    conversation_id = data.get("conversation_id") if p.role in ("service", "customer") else None
    return svc.TicketDraft(
        channel=channel,
        type=data.get("type", "information"),
        title=data.get("title", ""),
        description=data.get("description", ""),
        facts=IncidentFacts.from_dict(data.get("facts")),
        complex_case=complex_case,
        customer_id=customer_id,
        contact_id=contact_id,
        device_id=device_id,
        conversation_id=conversation_id if isinstance(conversation_id, str) else None,
        loaded=loaded,
    )


async def _ticket_payload(session: AsyncSession, ticket: Ticket, p: Principal) -> dict[str, Any]:
    data = ticket_json(ticket, staff=p.role != "customer")
    events = await svc.history(session=session, ticket=ticket, public_only=p.role == "customer")
    data["history"] = [event_json(e) for e in events]
    if p.role != "customer" and ticket.assignee_id:
        assignee = await session.get(Agent, ticket.assignee_id)
        data["assignee"] = {"email": assignee.email, "name": assignee.name} if assignee else None
    return data


@bp.post("")
@openapi.definition(
    summary="Create a ticket",
    description="Body: `{customer, contact?, device?, channel?, type, title, description?, facts?, complex?}`. "
    "`facts` are the seed's priority questions (production_down, severely_damaged, damaged, solution_available, "
    "most_operations_proceed, information_request). Honours an `Idempotency-Key` header: a retry returns the "
    "same ticket with 200 instead of 201. Customers create tickets for their own company only.",
)
async def create(request: Request) -> HTTPResponse:
    p = await caller(request)
    data = body(request)
    key = request.headers.get("Idempotency-Key")
    async with transaction(request.app.ctx.sessions) as session:
        draft = await _draft(session, p, data)
        result = await svc.create_ticket(
            session=session, draft=draft, author=p.email, now=request.app.ctx.clock.now(), idempotency_key=key
        )
        payload = await _ticket_payload(session, result.ticket, p)
    return json(payload, status=201 if result.created else 200)


@bp.get("")
@openapi.definition(
    summary="List and search tickets",
    description="Filters: `status` (comma list), `tier`, `priority`, `customer`, `q` (number/title/text), "
    "`overdue=1`, `mine=1`, `limit`, `offset`. Agents see their tiers; supervisors and admins all; customers "
    "only their own company's tickets.",
)
async def list_(request: Request) -> HTTPResponse:
    p = await caller(request)
    args = request.args
    statuses = tuple(s for s in (args.get("status") or "").split(",") if s)
    if any(s not in STATUSES for s in statuses):
        raise InvalidInput("unknown status filter", public="Filtro de estado no válido.")
    tiers: tuple[str, ...] = ()
    if args.get("tier"):
        tiers = (args.get("tier"),)
    if p.role == "agent":
        tiers = tuple(t for t in (tiers or p.tiers) if t in p.tiers)
        if not tiers:
            return json({"items": [], "total": 0})
    customer_id = p.customer_id if p.role == "customer" else None
    async with request.app.ctx.sessions() as session:
        if p.role != "customer" and args.get("customer"):
            customer = await session.scalar(select(Customer).where(Customer.code == args.get("customer")))
            customer_id = customer.id if customer else -1
        filters = svc.TicketFilter(
            customer_id=customer_id,
            tiers=tiers,
            statuses=statuses,
            priority=int_arg(request, "priority", 0, low=0, high=4) or None,
            assignee_id=p.agent_id if args.get("mine") == "1" else None,
            overdue_at=request.app.ctx.clock.now() if args.get("overdue") == "1" else None,
            query=(args.get("q") or "")[:100],
        )
        items, total = await svc.list_tickets(
            session=session,
            filters=filters,
            limit=int_arg(request, "limit", 50, low=1, high=200),
            offset=int_arg(request, "offset", 0, low=0, high=10**9),
        )
        return json({"items": [ticket_json(t, staff=p.role != "customer") for t in items], "total": total})


@bp.get("/<number:str>")
@openapi.definition(summary="A ticket with its history (customers see the public history only)")
async def read(request: Request, number: str) -> HTTPResponse:
    p = await caller(request)
    async with request.app.ctx.sessions() as session:
        ticket = await _visible(session, p, number)
        return json(await _ticket_payload(session, ticket, p))


@bp.post("/<number:str>/updates")
@openapi.definition(
    summary="Post a public update to the customer",
    description="Body `{text}`. Reaches every notification party by e-mail, and the customer's chat when the "
    "ticket came from one; logged; moves `next_update_due` by the seed's cadence.",
)
async def post_update(request: Request, number: str) -> HTTPResponse:
    p = await caller(request)
    data = body(request)
    async with transaction(request.app.ctx.sessions) as session:
        ticket = await _visible(session, p, number)
        _may_work(p, ticket)
        event = await svc.post_update(
            session=session, ticket=ticket, text=data.get("text"), author=p.email, now=request.app.ctx.clock.now()
        )
        return json({"event": event_json(event), "ticket": ticket_json(ticket, staff=True)}, status=201)


@bp.post("/<number:str>/notes")
@openapi.definition(summary="Add an internal note (never shown to the customer)")
async def add_note(request: Request, number: str) -> HTTPResponse:
    p = await caller(request)
    data = body(request)
    async with transaction(request.app.ctx.sessions) as session:
        ticket = await _visible(session, p, number)
        _staff(p)
        event = await svc.add_note(
            session=session, ticket=ticket, text=data.get("text"), author=p.email, now=request.app.ctx.clock.now()
        )
        return json({"event": event_json(event)}, status=201)


@bp.post("/<number:str>/comments")
@openapi.definition(summary="The customer adds information to its own ticket")
async def add_comment(request: Request, number: str) -> HTTPResponse:
    p = await caller(request)
    if p.role != "customer":
        raise Forbidden("only customers comment; staff post updates or notes", public=FORBIDDEN)
    data = body(request)
    async with transaction(request.app.ctx.sessions) as session:
        ticket = await _visible(session, p, number)
        event = await svc.add_customer_message(
            session=session,
            ticket=ticket,
            text=data.get("text"),
            author=p.email,
            now=request.app.ctx.clock.now(),
            channel="api",
        )
        return json({"event": event_json(event)}, status=201)


@bp.patch("/<number:str>")
@openapi.definition(
    summary="Change priority, tier, status or assignee",
    description="Body with any of: `{priority, reason}` (override, reason required and logged), "
    "`{tier, reason}` (transfer), `{status, resolution?}`, `{assignee: email|null}`.",
)
async def patch(request: Request, number: str) -> HTTPResponse:
    p = await caller(request)
    data = body(request)
    now = request.app.ctx.clock.now()
    allowed = {"priority", "tier", "reason", "status", "resolution", "assignee"}
    if not data or set(data) - allowed:
        raise InvalidInput(f"fields allowed: {', '.join(sorted(allowed))}", public="Campos no válidos.")
    async with transaction(request.app.ctx.sessions) as session:
        ticket = await _visible(session, p, number)
        _may_work(p, ticket)
        events = []
        if "priority" in data:
            events.append(
                await svc.change_priority(
                    session=session,
                    ticket=ticket,
                    priority=data["priority"],
                    reason=data.get("reason", ""),
                    author=p.email,
                    now=now,
                )
            )
        if "status" in data:
            events.append(
                await svc.change_status(
                    session=session,
                    ticket=ticket,
                    status=data["status"],
                    resolution=str(data.get("resolution") or ""),
                    author=p.email,
                    now=now,
                )
            )
        if "assignee" in data:
            agent = None
            if data["assignee"] is not None:
                agent = await session.scalar(select(Agent).where(Agent.email == str(data["assignee"]).lower()))
                if agent is None:
                    raise InvalidInput("unknown assignee", public="El agente no existe.")
            events.append(await svc.assign(session=session, ticket=ticket, agent=agent, author=p.email, now=now))
        if "tier" in data:
            events.append(
                await svc.change_tier(
                    session=session,
                    ticket=ticket,
                    tier=data["tier"],
                    reason=data.get("reason", ""),
                    author=p.email,
                    now=now,
                )
            )
        return json({"ticket": ticket_json(ticket, staff=True), "events": [event_json(e) for e in events]})


__all__ = ["bp", "OPEN_STATUSES"]
