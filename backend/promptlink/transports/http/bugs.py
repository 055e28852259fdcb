"""`/api/v1/bugs`: the bug-tracking module over REST (support staff only)."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.infra.db import transaction
from promptlink.models import Bug, BugEvent
from promptlink.services import bugs as svc
from promptlink.services.auth import STAFF_ROLES, Forbidden, Principal, require_role
from promptlink.transports.http.common import body, caller, int_arg

bp = Blueprint("bugs", url_prefix="/api/v1/bugs")
FORBIDDEN = "No tiene permiso para esta acción."


def _may_edit(p: Principal) -> None:
    """Bugs are worked by Level 2 and 3 (developers and application engineers) and supervisors."""
    require_role(p, *STAFF_ROLES)
    if p.role == "agent" and not {"L2", "L3"} & set(p.tiers):
        raise Forbidden(f"{p.email} is not a Level 2 or 3 agent", public=FORBIDDEN)


def _bug_json(bug: Bug) -> dict[str, Any]:
    return {
        "key": bug.key,
        "title": bug.title,
        "description": bug.description,
        "product": bug.product,
        "version": bug.version,
        "state": bug.state,
        "state_name": svc.STATE_NAMES[bug.state],
        "fixed_in_version": bug.fixed_in_version,
        "next_states": sorted(svc.TRANSITIONS[bug.state]),
        "created_at": bug.created_at.isoformat(),
        "updated_at": bug.updated_at.isoformat(),
    }


def _event_json(event: BugEvent) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(),
        "from_state": event.from_state,
        "to_state": event.to_state,
        "note": event.note,
        "author": event.author,
    }


async def _bug_payload(session: AsyncSession, bug: Bug) -> dict[str, Any]:
    data = _bug_json(bug)
    data["tickets"] = [t.number for t in await svc.linked_tickets(session=session, bug=bug)]
    data["history"] = [_event_json(e) for e in await svc.bug_history(session=session, bug=bug)]
    return data


@bp.get("")
@openapi.definition(
    summary="List and search bugs",
    description="Support staff only. Filters: `state` (new, confirmed, in_progress, fixed, released, wont_fix), "
    "`q` (key, title, description or product), `limit`, `offset`.",
)
async def list_(request: Request) -> HTTPResponse:
    p = await caller(request)
    require_role(p, *STAFF_ROLES)
    async with request.app.ctx.sessions() as session:
        items, total = await svc.list_bugs(
            session=session,
            state=request.args.get("state") or None,
            query=(request.args.get("q") or "")[:100],
            limit=int_arg(request, "limit", 50, low=1, high=200),
            offset=int_arg(request, "offset", 0, low=0, high=10**9),
        )
        return json({"items": [_bug_json(b) for b in items], "total": total})


@bp.post("")
@openapi.definition(
    summary="Open a bug",
    description="Body `{title, description?, product?, version?, ticket?}`; `version` (≤ 50 characters) is the "
    "version the fault was seen on; `ticket` is a ticket number to link. "
    "Level 2 and 3 agents, supervisors and admins.",
)
async def create(request: Request) -> HTTPResponse:
    p = await caller(request)
    _may_edit(p)
    data = body(request)
    async with transaction(request.app.ctx.sessions) as session:
        bug = await svc.report_bug(
            session=session,
            title=data.get("title"),
            description=data.get("description"),
            product=data.get("product"),
            version=data.get("version"),
            ticket_number=data.get("ticket"),
            author=p.email,
            now=request.app.ctx.clock.now(),
        )
        return json(await _bug_payload(session, bug), status=201)


@bp.get("/<key:str>")
@openapi.definition(summary="A bug with its history and the numbers of its linked tickets (support staff)")
async def read(request: Request, key: str) -> HTTPResponse:
    p = await caller(request)
    require_role(p, *STAFF_ROLES)
    async with request.app.ctx.sessions() as session:
        bug = await svc.get_bug(session=session, key=key)
        return json(await _bug_payload(session, bug))


@bp.patch("/<key:str>")
@openapi.definition(
    summary="Change a bug's state",
    description="Body `{state, note?, version?}`: new → confirmed → in_progress → fixed (`version` required) → "
    "released; any state before fixed may go to wont_fix. Logged on the bug and in every linked ticket's "
    "history; `released` informs the customers of the linked open tickets. Level 2 and 3 agents, supervisors "
    "and admins.",
)
async def patch(request: Request, key: str) -> HTTPResponse:
    p = await caller(request)
    _may_edit(p)
    data = body(request)
    async with transaction(request.app.ctx.sessions) as session:
        bug = await svc.get_bug(session=session, key=key)
        await svc.change_bug_state(
            session=session,
            bug=bug,
            state=data.get("state"),
            note=data.get("note"),
            version=data.get("version"),
            author=p.email,
            now=request.app.ctx.clock.now(),
        )
        return json(await _bug_payload(session, bug))


@bp.post("/<key:str>/tickets")
@openapi.definition(
    summary="Link a ticket to a bug",
    description="Body `{ticket}` (a ticket number); logged in the ticket's history. 201 when linked, 200 when "
    "it already was. Level 2 and 3 agents, supervisors and admins.",
)
async def link(request: Request, key: str) -> HTTPResponse:
    p = await caller(request)
    _may_edit(p)
    data = body(request)
    async with transaction(request.app.ctx.sessions) as session:
        bug = await svc.get_bug(session=session, key=key)
        linked = await svc.link_ticket_number(
            session=session, bug=bug, number=data.get("ticket"), author=p.email, now=request.app.ctx.clock.now()
        )
        await session.flush()
        return json(await _bug_payload(session, bug), status=201 if linked else 200)
