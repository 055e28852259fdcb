"""`/api/v1/tickets`: the service incident system over REST."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from promptlink.infra.db import transaction
from promptlink.models import Ticket
from promptlink.services import intake
from promptlink.services import ticket_queries as queries
from promptlink.services import ticket_updates as updates
from promptlink.services import tickets as svc
from promptlink.services.access import ticket_for
from promptlink.services.auth import Forbidden, Principal
from promptlink.services.errors import InvalidInput
from promptlink.transports.http.api import endpoint, parse_body, parse_query, reply
from promptlink.transports.http.common import caller, has_credentials
from promptlink.transports.http.schemas.tickets import (
    CommentIn,
    EventCreated,
    PreviewOut,
    TextIn,
    TicketChanged,
    TicketDetailOut,
    TicketIn,
    TicketList,
    TicketListQuery,
    TicketPatch,
    UpdatePosted,
)
from promptlink.transports.http.views import tickets as views

bp = Blueprint("tickets", url_prefix="/api/v1/tickets")
FORBIDDEN = "No tiene permiso para esta acción."
PATCH_FIELDS = ("assignee", "priority", "reason", "resolution", "status", "tier")


def _staff(p: Principal) -> None:
    if not p.is_staff:
        raise Forbidden(f"role {p.role} is not support staff", public=FORBIDDEN)


def _may_work(p: Principal, ticket: Ticket) -> None:
    _staff(p)
    if not p.may_work_tier(ticket.tier):
        raise Forbidden(
            f"{p.email} does not work tier {ticket.tier}", public=f"El tiquete pertenece al nivel {ticket.tier}."
        )


INTAKE_BODY = (
    "Body: `{customer, contact?, channel?, type, title, description?, facts?, complex?, device?, device_text?, "
    "serial?, version?, error_message?, since?, related_ticket?, conversation_id?}`. A customer (widget token, or "
    "the service token with `X-On-Behalf-Of` a contact) files for its own company: `customer` and `contact` are "
    "ignored. `facts` are the priority questions of docs/support-plan.md#priorities (production_down, "
    "severely_damaged, damaged, solution_available, most_operations_proceed, information_request). "
    "What the customer says is kept as said: `device` is a registered device of the customer, matched "
    "without case, spaces, hyphens or underscores («CMTS BOG 01» is cmts-bog-01); a name that matches none "
    "is kept in `device_text` (for support staff it is a 422: they pick from the customer's devices and may "
    "send `device_text`). "
    "`device_text` ≤ 200 characters, `serial` ≤ 100, `version` ≤ 50, `error_message` ≤ 2,000; `since` is ISO "
    "8601 with a UTC offset or Z (stored as UTC; not in the future); `related_ticket` is a ticket number of the "
    "same customer (e.g. the SNMP alarm's ticket: both tickets get a public `linked` history entry). Strings "
    "may be null. Wrong types or values: 422 with `detail` (English) and `message` (Spanish)."
)


@bp.post("")
@endpoint(
    summary="Create a ticket",
    description=INTAKE_BODY + " Honours an `Idempotency-Key` header per caller (contact, agent or service): a "
    "retry by the same caller returns the same ticket with 200 instead of 201; another caller's same key is "
    "another ticket. `conversation_id` must be the caller's own chat (422 otherwise). The answer is the ticket "
    "with its history: `device` (registered name or null), "
    "`device_text`, `serial`, `version`, `error_message`, `since` (ISO, UTC), `related_ticket` (number or "
    "null), `conversation_id`, and when there is one `rma {number, serial, device, status}` and "
    "`bug {key, product, version, state}`.",
    body=TicketIn,
    responses={200: TicketDetailOut, 201: TicketDetailOut, 401: None, 403: None, 422: None},
)
async def create(request: Request) -> HTTPResponse:
    if not has_credentials(request):
        await caller(request)  # 401 before anything else, without the write transaction
    key = request.headers.get("Idempotency-Key")
    now = request.app.ctx.clock.now()
    async with transaction(request.app.ctx.sessions) as session:
        # The caller is read in this transaction (one session and connection per request, not two);
        # still from the database, so a revoked login is refused at once.
        p = await caller(request, session)
        data = parse_body(request, TicketIn).model_dump(exclude_unset=True)
        # `read` holds the rows the body named until the ticket is created (`intake.Intake`).
        read = await intake.read_body(session=session, caller=p, data=data, now=now)
        result = await svc.create_ticket(
            session=session,
            draft=read.draft,
            author=p.email,
            now=now,
            idempotency_key=key,
            idempotency_scope=svc.scope_of(p),
        )
        detail = await queries.ticket_detail(
            session=session,
            ticket=result.ticket,
            staff=p.role != "customer",
            links=result.links,
            written=result.history,
            # A new ticket's entries are the caller's or the system's: the caller's own name is known.
            author_names=_own_name(p) if result.history is not None else None,
        )
    return reply(views.ticket_detail(detail), status=201 if result.created else 200)


def _own_name(p: Principal) -> dict[str, str]:
    """What `staff_names` would answer for the caller's own e-mail: an agent's name, else nothing."""
    return {p.email: p.name} if p.agent_id is not None and p.name else {}


@bp.post("/preview")
@endpoint(
    summary="Preview a ticket: its classification and the customer's open tickets about the same device",
    description=INTAKE_BODY + " Same callers as create (`title` may be left out); writes nothing. Answer: "
    "`{priority, priority_reason, tier, tier_name, routing_rule, routing_reason, device, device_text, covered, "
    "coverage_note, duplicates}`; `duplicates` are up to 3 of the customer's open tickets (new, open, "
    "pending_customer; any channel, SNMP alarms included), newest first, for the same registered device or, "
    "without one, the same device text: `{number, title, priority, status, status_name, channel, device, "
    "created_at}`.",
    body=TicketIn,
    responses={200: PreviewOut, 401: None, 403: None, 422: None},
)
async def preview(request: Request) -> HTTPResponse:
    p = await caller(request)
    data = parse_body(request, TicketIn).model_dump(exclude_unset=True)
    now = request.app.ctx.clock.now()
    async with request.app.ctx.sessions() as session:
        read = await intake.read_body(session=session, caller=p, data=data, now=now, preview=True)
        return reply(views.preview(await intake.preview_ticket(session=session, draft=read.draft, now=now)))


@bp.get("")
@endpoint(
    summary="List and search tickets",
    description="Filters: `status` (comma list), `tier`, `priority`, `customer`, `q` (number/title/text), "
    "`overdue=1`, `mine=1`, `limit`, `offset`; `q` matches `%` and `_` literally. Agents see their own tiers "
    "and the lower ones (`mine=1`: their assigned tickets in any tier); supervisors and admins all; customers "
    "only their own company's tickets.",
    query=TicketListQuery,
    responses={200: TicketList, 401: None, 403: None, 422: None},
)
async def list_(request: Request) -> HTTPResponse:
    p = await caller(request)
    query = parse_query(request, TicketListQuery)
    search = queries.TicketSearch(
        statuses=tuple(s for s in (query.status or "").split(",") if s),
        tier=query.tier or None,
        priority=query.priority,
        customer=query.customer,
        text=query.q or "",
        overdue=query.overdue == "1",
        mine=query.mine == "1",
        limit=query.limit,
        offset=query.offset,
    )
    async with request.app.ctx.sessions() as session:
        page = await queries.visible_tickets(session=session, caller=p, search=search, now=request.app.ctx.clock.now())
        return reply(views.ticket_page(page, staff=p.role != "customer"))


@bp.get("/<number:str>")
@endpoint(
    summary="A ticket with its history (customers see the public history only)",
    description="Customers read their own company's tickets (another company's: 404, as an unknown number). "
    "Agents read tickets of their own tiers and the lower ones, and any ticket assigned to them now or before, "
    "written in by them, or whose chat they took (otherwise 403); supervisors and admins all.",
    responses={200: TicketDetailOut, 401: None, 403: None, 404: None},
)
async def read(request: Request, number: str) -> HTTPResponse:
    p = await caller(request)
    async with request.app.ctx.sessions() as session:
        ticket = await ticket_for(session, p, number)
        detail = await queries.ticket_detail(session=session, ticket=ticket, staff=p.role != "customer")
        return reply(views.ticket_detail(detail))


@bp.post("/<number:str>/updates")
@endpoint(
    summary="Post a public update to the customer",
    description="Body `{text}`. Reaches every notification party by e-mail, and the customer's chat when the "
    "ticket came from one; logged; moves `next_update_due` by the cadence of docs/support-plan.md#update-cadence.",
    body=TextIn,
    responses={201: UpdatePosted, 401: None, 403: None, 404: None, 422: None},
)
async def post_update(request: Request, number: str) -> HTTPResponse:
    p = await caller(request)
    data = parse_body(request, TextIn)
    async with transaction(request.app.ctx.sessions) as session:
        ticket = await ticket_for(session, p, number)
        _may_work(p, ticket)
        event = await updates.post_update(
            session=session, ticket=ticket, text=data.text, author=p.email, now=request.app.ctx.clock.now()
        )
        links = await queries.links_of(session, ticket)
        return reply(views.update_posted(event, ticket, links), status=201)


@bp.post("/<number:str>/notes")
@endpoint(
    summary="Add an internal note (never shown to the customer)",
    body=TextIn,
    responses={201: EventCreated, 401: None, 403: None, 404: None, 422: None},
)
async def add_note(request: Request, number: str) -> HTTPResponse:
    p = await caller(request)
    data = parse_body(request, TextIn)
    async with transaction(request.app.ctx.sessions) as session:
        ticket = await ticket_for(session, p, number)
        _staff(p)
        event = await updates.add_note(
            session=session, ticket=ticket, text=data.text, author=p.email, now=request.app.ctx.clock.now()
        )
        return reply(views.event_created(event), status=201)


@bp.post("/<number:str>/comments")
@endpoint(
    summary="The customer adds information to its own ticket",
    description="Body `{text, channel?}` (`channel`: `chat` when the assistant relays it, else `api`). A customer "
    "(widget token, or the service token with `X-On-Behalf-Of` a contact) on its own company's tickets; another "
    "company's ticket is 404. Logged as a public `customer_message` history entry, which the console shows; a "
    "ticket waiting for the customer becomes open again. Staff post updates or notes instead (403).",
    body=CommentIn,
    responses={201: EventCreated, 401: None, 403: None, 404: None, 422: None},
)
async def add_comment(request: Request, number: str) -> HTTPResponse:
    p = await caller(request)
    if p.role != "customer":
        raise Forbidden("only customers comment; staff post updates or notes", public=FORBIDDEN)
    data = parse_body(request, CommentIn)
    async with transaction(request.app.ctx.sessions) as session:
        ticket = await ticket_for(session, p, number)
        event = await updates.add_customer_message(
            session=session,
            ticket=ticket,
            text=data.text,
            author=p.email,
            now=request.app.ctx.clock.now(),
            channel="chat" if data.channel == "chat" else "api",
        )
        return reply(views.event_created(event), status=201)


@bp.patch("/<number:str>")
@endpoint(
    summary="Change priority, tier, status or assignee",
    description="Body with any of: `{priority, reason}` (override, reason required and logged), "
    "`{tier, reason}` (transfer), `{status, resolution?}`, `{assignee: email|null}`; no other field.",
    body=TicketPatch,
    responses={200: TicketChanged, 401: None, 403: None, 404: None, 422: None},
)
async def patch(request: Request, number: str) -> HTTPResponse:
    p = await caller(request)
    data = parse_body(request, TicketPatch)
    given = data.model_fields_set
    if not given:
        raise InvalidInput(f"fields allowed: {', '.join(PATCH_FIELDS)}", public="Campos no válidos.")
    now = request.app.ctx.clock.now()
    reason = data.reason if "reason" in given else ""
    async with transaction(request.app.ctx.sessions) as session:
        ticket = await ticket_for(session, p, number)
        _may_work(p, ticket)
        events = []
        if "priority" in given:
            events.append(
                await updates.change_priority(
                    session=session, ticket=ticket, priority=data.priority, reason=reason, author=p.email, now=now
                )
            )
        if "status" in given:
            events.append(
                await updates.change_status(
                    session=session,
                    ticket=ticket,
                    status=data.status,
                    resolution=str(data.resolution or ""),
                    author=p.email,
                    now=now,
                )
            )
        if "assignee" in given:
            agent = None if data.assignee is None else await queries.assignee_named(session, str(data.assignee))
            events.append(await updates.assign(session=session, ticket=ticket, agent=agent, author=p.email, now=now))
        if "tier" in given:
            events.append(
                await updates.change_tier(
                    session=session, ticket=ticket, tier=data.tier, reason=reason, author=p.email, now=now
                )
            )
        links = await queries.links_of(session, ticket)
        return reply(views.ticket_changed(ticket, links, events))
