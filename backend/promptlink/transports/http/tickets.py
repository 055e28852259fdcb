"""`/api/v1/tickets`: the service incident system over REST."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.infra.db import transaction
from promptlink.models import Agent, Customer, Ticket
from promptlink.models.agent import TIERS
from promptlink.models.ticket import OPEN_STATUSES, STATUSES
from promptlink.services import intake
from promptlink.services import tickets as svc
from promptlink.services.access import ticket_for
from promptlink.services.auth import Forbidden, Principal
from promptlink.services.errors import InvalidInput
from promptlink.services.spanish import STATUS_NAMES, TIER_NAMES
from promptlink.services.ticket_links import TicketLinks, ticket_links
from promptlink.transports.http.common import body, caller, event_json, int_arg, ticket_json, tickets_json

bp = Blueprint("tickets", url_prefix="/api/v1/tickets")
FORBIDDEN = "No tiene permiso para esta acción."


def _staff(p: Principal) -> None:
    if not p.is_staff:
        raise Forbidden(f"role {p.role} is not support staff", public=FORBIDDEN)


async def _visible(session: AsyncSession, p: Principal, number: str) -> Ticket:
    """The ticket if the caller may read it (`services.access`: customers get 404 for another
    company's, agents 403 for a higher tier's ticket they never handled)."""
    return await ticket_for(session, p, number)


def _may_work(p: Principal, ticket: Ticket) -> None:
    _staff(p)
    if not p.may_work_tier(ticket.tier):
        raise Forbidden(
            f"{p.email} does not work tier {ticket.tier}", public=f"El tiquete pertenece al nivel {ticket.tier}."
        )


async def _ticket_payload(
    session: AsyncSession, ticket: Ticket, p: Principal, links: TicketLinks | None = None
) -> dict[str, Any]:
    staff = p.role != "customer"
    if links is None:
        links = (await ticket_links(session=session, tickets=[ticket]))[ticket.id]
    data = ticket_json(ticket, staff=staff, links=links)
    events = await svc.history(session=session, ticket=ticket, public_only=not staff)
    data["history"] = [event_json(e) for e in events]
    if staff and ticket.assignee_id:
        assignee = await session.get(Agent, ticket.assignee_id)
        data["assignee"] = {"email": assignee.email, "name": assignee.name} if assignee else None
    return data


def _preview_json(preview: intake.Preview) -> dict[str, Any]:
    return {
        "priority": preview.priority,
        "priority_reason": preview.priority_reason,
        "tier": preview.tier,
        "tier_name": TIER_NAMES[preview.tier],
        "routing_rule": preview.routing_rule,
        "routing_reason": preview.routing_reason,
        "device": preview.device.name if preview.device else None,
        "device_text": preview.device_text,
        "covered": preview.covered,
        "coverage_note": preview.coverage_note,
        "duplicates": [
            {
                "number": t.number,
                "title": t.title,
                "priority": t.priority,
                "status": t.status,
                "status_name": STATUS_NAMES[t.status],
                "channel": t.channel,
                "device": t.device.name if t.device else t.device_text,
                "created_at": t.created_at.isoformat(),
            }
            for t in preview.duplicates
        ],
    }


INTAKE_BODY = (
    "Body: `{customer, contact?, channel?, type, title, description?, facts?, complex?, device?, device_text?, "
    "serial?, version?, error_message?, since?, related_ticket?, conversation_id?}`. A customer (widget token, or "
    "the service token with `X-On-Behalf-Of` a contact) files for its own company: `customer` and `contact` are "
    "ignored. `facts` are the seed's priority questions (production_down, severely_damaged, damaged, "
    "solution_available, most_operations_proceed, information_request). What the customer says is kept as "
    "said: `device` is a registered device of the customer, matched without case, spaces, hyphens or "
    "underscores («CMTS BOG 01» is cmts-bog-01); a name that matches none is kept in `device_text` (for "
    "support staff it is a 422: they pick from the customer's devices and may send `device_text`). "
    "`device_text` ≤ 200 characters, `serial` ≤ 100, `version` ≤ 50, `error_message` ≤ 2,000; `since` is ISO "
    "8601 with a UTC offset or Z (stored as UTC; not in the future); `related_ticket` is a ticket number of the "
    "same customer (e.g. the SNMP alarm's ticket: both tickets get a public `linked` history entry). Strings "
    "may be null. Wrong types or values: 422 with `detail` (English) and `message` (Spanish)."
)


@bp.post("")
@openapi.definition(
    summary="Create a ticket",
    description=INTAKE_BODY + " Honours an `Idempotency-Key` header per caller (contact, agent or service): a "
    "retry by the same caller returns the same ticket with 200 instead of 201; another caller's same key is "
    "another ticket. `conversation_id` must be the caller's own chat (422 otherwise). The answer is the ticket "
    "with its history: `device` (registered name or null), "
    "`device_text`, `serial`, `version`, `error_message`, `since` (ISO, UTC), `related_ticket` (number or "
    "null), `conversation_id`, and when there is one `rma {number, serial, device, status}` and "
    "`bug {key, product, version, state}`.",
)
async def create(request: Request) -> HTTPResponse:
    p = await caller(request)
    data = body(request)
    key = request.headers.get("Idempotency-Key")
    now = request.app.ctx.clock.now()
    async with transaction(request.app.ctx.sessions) as session:
        draft = await intake.draft_from_body(session=session, caller=p, data=data, now=now)
        result = await svc.create_ticket(
            session=session,
            draft=draft,
            author=p.email,
            now=now,
            idempotency_key=key,
            idempotency_scope=svc.scope_of(p),
        )
        payload = await _ticket_payload(session, result.ticket, p, result.links)
    return json(payload, status=201 if result.created else 200)


@bp.post("/preview")
@openapi.definition(
    summary="Preview a ticket: its classification and the customer's open tickets about the same device",
    description=INTAKE_BODY + " Same callers as create (`title` may be left out); writes nothing. Answer: "
    "`{priority, priority_reason, tier, tier_name, routing_rule, routing_reason, device, device_text, covered, "
    "coverage_note, duplicates}`; `duplicates` are up to 3 of the customer's open tickets (new, open, "
    "pending_customer; any channel, SNMP alarms included), newest first, for the same registered device or, "
    "without one, the same device text: `{number, title, priority, status, status_name, channel, device, "
    "created_at}`.",
)
async def preview(request: Request) -> HTTPResponse:
    p = await caller(request)
    data = body(request)
    now = request.app.ctx.clock.now()
    async with request.app.ctx.sessions() as session:
        draft = await intake.draft_from_body(session=session, caller=p, data=data, now=now, preview=True)
        result = await intake.preview_ticket(session=session, draft=draft, now=now)
        return json(_preview_json(result))


@bp.get("")
@openapi.definition(
    summary="List and search tickets",
    description="Filters: `status` (comma list), `tier`, `priority`, `customer`, `q` (number/title/text), "
    "`overdue=1`, `mine=1`, `limit`, `offset`; `q` matches `%` and `_` literally. Agents see their own tiers "
    "and the lower ones (`mine=1`: their assigned tickets in any tier); supervisors and admins all; customers "
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
    mine = args.get("mine") == "1"
    if p.role == "agent" and not mine:
        # The tiers it may read (its own and the lower ones, `services.access`); its own tickets
        # (`mine=1`) wherever they are.
        tiers = tuple(t for t in (tiers or TIERS) if p.can_see_tier(t))
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
            assignee_id=p.agent_id if mine else None,
            overdue_at=request.app.ctx.clock.now() if args.get("overdue") == "1" else None,
            query=(args.get("q") or "")[:100],
        )
        items, total = await svc.list_tickets(
            session=session,
            filters=filters,
            limit=int_arg(request, "limit", 50, low=1, high=200),
            offset=int_arg(request, "offset", 0, low=0, high=10**9),
        )
        return json({"items": await tickets_json(session, items, staff=p.role != "customer"), "total": total})


@bp.get("/<number:str>")
@openapi.definition(
    summary="A ticket with its history (customers see the public history only)",
    description="Customers read their own company's tickets (another company's: 404, as an unknown number). "
    "Agents read tickets of their own tiers and the lower ones, and any ticket assigned to them now or before, "
    "written in by them, or whose chat they took (otherwise 403); supervisors and admins all.",
)
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
        [data] = await tickets_json(session, [ticket], staff=True)
        return json({"event": event_json(event), "ticket": data}, status=201)


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
@openapi.definition(
    summary="The customer adds information to its own ticket",
    description="Body `{text, channel?}` (`channel`: `chat` when the assistant relays it, else `api`). A customer "
    "(widget token, or the service token with `X-On-Behalf-Of` a contact) on its own company's tickets; another "
    "company's ticket is 404. Logged as a public `customer_message` history entry, which the console shows; a "
    "ticket waiting for the customer becomes open again. Staff post updates or notes instead (403).",
)
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
            channel="chat" if data.get("channel") == "chat" else "api",
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
        [data] = await tickets_json(session, [ticket], staff=True)
        return json({"ticket": data, "events": [event_json(e) for e in events]})


__all__ = ["bp", "OPEN_STATUSES"]
