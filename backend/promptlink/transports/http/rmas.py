"""`/api/v1/rmas`: hardware replacements (RMA) opened by hardware-failure tickets."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from promptlink.infra.db import transaction
from promptlink.services import rmas as svc
from promptlink.services.access import require_own_customer
from promptlink.services.auth import STAFF_ROLES, Principal, require_role
from promptlink.transports.http.common import body, caller, event_json, int_arg

bp = Blueprint("rmas", url_prefix="/api/v1/rmas")


def _rma_json(row: svc.RmaRow) -> dict[str, Any]:
    rma = row.rma
    return {
        "number": rma.number,
        "ticket": row.ticket_number,
        "customer": row.customer_code,
        "device": row.device_name,
        "serial": rma.serial,
        "shipping_method": rma.shipping_method,
        "status": rma.status,
        "status_name": svc.STATUS_NAMES[rma.status],
        "next_statuses": sorted(svc.TRANSITIONS[rma.status]),
        "tracking": rma.tracking,
        "created_at": rma.created_at.isoformat(),
        "updated_at": rma.updated_at.isoformat(),
    }


def _own_only(p: Principal, row: svc.RmaRow, number: str) -> None:
    """Customers see their own company's RMAs; others' do not exist for them."""
    require_own_customer(p, row.rma.customer_id, what=f"RMA {number}", public="La sustitución de hardware no existe.")


@bp.get("")
@openapi.definition(
    summary="List RMAs (hardware replacements)",
    description="Newest first. Filters: `status` (requested, approved, shipped, delivered, closed), `customer` "
    "(staff), `limit`, `offset`. Staff see all; a customer only its own company's.",
)
async def list_(request: Request) -> HTTPResponse:
    p = await caller(request)
    require_role(p, "customer", *STAFF_ROLES)
    async with request.app.ctx.sessions() as session:
        customer_id = p.customer_id
        code = request.args.get("customer")
        if p.role != "customer" and code:
            customer_id = await svc.customer_id_for(session=session, code=code)
        rows = await svc.list_rmas(
            session=session,
            customer_id=customer_id,
            status=request.args.get("status") or None,
            limit=int_arg(request, "limit", 50, low=1, high=200),
            offset=int_arg(request, "offset", 0, low=0, high=10**9),
        )
        return json({"items": [_rma_json(row) for row in rows]})


@bp.get("/<number:str>")
@openapi.definition(summary="One RMA (customers may read only their own)")
async def read(request: Request, number: str) -> HTTPResponse:
    p = await caller(request)
    require_role(p, "customer", *STAFF_ROLES)
    async with request.app.ctx.sessions() as session:
        row = await svc.get_rma(session=session, number=number)
        _own_only(p, row, number)
        return json(_rma_json(row))


@bp.patch("/<number:str>")
@openapi.definition(
    summary="Move an RMA on",
    description="Body `{status, tracking?}`: requested → approved → shipped (tracking required) → delivered → "
    "closed; requested or approved may also be closed. Logged in the ticket's history; `shipped` informs the "
    "customer's notification parties with the tracking number. Support staff only.",
)
async def patch(request: Request, number: str) -> HTTPResponse:
    p = await caller(request)
    require_role(p, *STAFF_ROLES)
    data = body(request)
    async with transaction(request.app.ctx.sessions) as session:
        row = await svc.get_rma(session=session, number=number)
        event = await svc.update_rma(
            session=session,
            rma=row.rma,
            status=data.get("status"),
            tracking=data.get("tracking"),
            author=p.email,
            now=request.app.ctx.clock.now(),
        )
        return json({"rma": _rma_json(row), "event": event_json(event)})
