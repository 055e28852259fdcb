"""`/api/v1/bugs`: the bug-tracking module over REST (support staff only)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from promptlink.infra.db import transaction
from promptlink.services import bugs as svc
from promptlink.services.auth import STAFF_ROLES, Forbidden, Principal, require_role
from promptlink.transports.http.api import endpoint, parse_body, parse_query, reply
from promptlink.transports.http.common import caller
from promptlink.transports.http.schemas.bugs import BugDetailOut, BugIn, BugList, BugListQuery, BugPatch, LinkIn
from promptlink.transports.http.views import bugs as views

bp = Blueprint("bugs", url_prefix="/api/v1/bugs")
FORBIDDEN = "No tiene permiso para esta acción."


def _may_edit(p: Principal) -> None:
    """Bugs are worked by Level 2 and 3 (developers and application engineers) and supervisors."""
    require_role(p, *STAFF_ROLES)
    if p.role == "agent" and not {"L2", "L3"} & set(p.tiers):
        raise Forbidden(f"{p.email} is not a Level 2 or 3 agent", public=FORBIDDEN)


@bp.get("")
@endpoint(
    summary="List and search bugs",
    description="Support staff only. Filters: `state` (new, confirmed, in_progress, fixed, released, wont_fix), "
    "`q` (key, title, description or product), `limit`, `offset`.",
    query=BugListQuery,
    responses={200: BugList, 401: None, 403: None, 422: None},
)
async def list_(request: Request) -> HTTPResponse:
    p = await caller(request)
    require_role(p, *STAFF_ROLES)
    query = parse_query(request, BugListQuery)
    async with request.app.ctx.sessions() as session:
        items, total = await svc.list_bugs(
            session=session,
            state=query.state or None,
            query=(query.q or "")[:100],
            limit=query.limit,
            offset=query.offset,
        )
        return reply(views.bug_list(items, total))


@bp.post("")
@endpoint(
    summary="Open a bug",
    description="Body `{title, description?, product?, version?, ticket?}`; `version` (≤ 50 characters) is the "
    "version the fault was seen on; `ticket` is a ticket number to link. "
    "Level 2 and 3 agents, supervisors and admins.",
    body=BugIn,
    responses={201: BugDetailOut, 401: None, 403: None, 404: None, 422: None},
)
async def create(request: Request) -> HTTPResponse:
    p = await caller(request)
    _may_edit(p)
    data = parse_body(request, BugIn)
    async with transaction(request.app.ctx.sessions) as session:
        bug = await svc.report_bug(
            session=session,
            title=data.title,
            description=data.description,
            product=data.product,
            version=data.version,
            ticket_number=data.ticket,
            author=p.email,
            now=request.app.ctx.clock.now(),
        )
        return reply(views.bug_detail(await svc.bug_detail(session=session, bug=bug)), status=201)


@bp.get("/<key:str>")
@endpoint(
    summary="A bug with its history and the numbers of its linked tickets (support staff)",
    responses={200: BugDetailOut, 401: None, 403: None, 404: None},
)
async def read(request: Request, key: str) -> HTTPResponse:
    p = await caller(request)
    require_role(p, *STAFF_ROLES)
    async with request.app.ctx.sessions() as session:
        bug = await svc.get_bug(session=session, key=key)
        return reply(views.bug_detail(await svc.bug_detail(session=session, bug=bug)))


@bp.patch("/<key:str>")
@endpoint(
    summary="Change a bug's state",
    description="Body `{state, note?, version?}`: new → confirmed → in_progress → fixed (`version` required) → "
    "released; any state before fixed may go to wont_fix. Logged on the bug and in every linked ticket's "
    "history; `released` informs the customers of the linked open tickets. Level 2 and 3 agents, supervisors "
    "and admins.",
    body=BugPatch,
    responses={200: BugDetailOut, 401: None, 403: None, 404: None, 422: None},
)
async def patch(request: Request, key: str) -> HTTPResponse:
    p = await caller(request)
    _may_edit(p)
    data = parse_body(request, BugPatch)
    async with transaction(request.app.ctx.sessions) as session:
        bug = await svc.get_bug(session=session, key=key)
        await svc.change_bug_state(
            session=session,
            bug=bug,
            state=data.state,
            note=data.note,
            version=data.version,
            author=p.email,
            now=request.app.ctx.clock.now(),
        )
        return reply(views.bug_detail(await svc.bug_detail(session=session, bug=bug)))


@bp.post("/<key:str>/tickets")
@endpoint(
    summary="Link a ticket to a bug",
    description="Body `{ticket}` (a ticket number); logged in the ticket's history. 201 when linked, 200 when "
    "it already was. Level 2 and 3 agents, supervisors and admins.",
    body=LinkIn,
    responses={200: BugDetailOut, 201: BugDetailOut, 401: None, 403: None, 404: None, 422: None},
)
async def link(request: Request, key: str) -> HTTPResponse:
    p = await caller(request)
    _may_edit(p)
    data = parse_body(request, LinkIn)
    async with transaction(request.app.ctx.sessions) as session:
        bug = await svc.get_bug(session=session, key=key)
        linked = await svc.link_ticket_number(
            session=session, bug=bug, number=data.ticket, author=p.email, now=request.app.ctx.clock.now()
        )
        await session.flush()
        detail = await svc.bug_detail(session=session, bug=bug)
        return reply(views.bug_detail(detail), status=201 if linked else 200)
