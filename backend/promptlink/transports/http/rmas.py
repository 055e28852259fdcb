"""`/api/v1/rmas`: hardware replacements (RMA) opened by hardware-failure tickets."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from promptlink.infra.db import transaction
from promptlink.services import rmas as svc
from promptlink.services.access import require_own_customer
from promptlink.services.auth import STAFF_ROLES, Principal, require_role
from promptlink.transports.http.api import endpoint, parse_body, parse_query, reply
from promptlink.transports.http.common import caller
from promptlink.transports.http.schemas.rmas import RmaList, RmaListQuery, RmaOut, RmaUpdate, RmaUpdated
from promptlink.transports.http.views import rmas as views

bp = Blueprint("rmas", url_prefix="/api/v1/rmas")


def _own_only(p: Principal, row: svc.RmaRow, number: str) -> None:
    """Customers see their own company's RMAs; others' do not exist for them."""
    require_own_customer(p, row.rma.customer_id, what=f"RMA {number}", public="La sustitución de hardware no existe.")


@bp.get("")
@endpoint(
    summary="List RMAs (hardware replacements)",
    description="Newest first. Staff see all (optionally of one `customer`); a customer only its own company's.",
    query=RmaListQuery,
    responses={200: RmaList, 401: None, 403: None, 422: None},
)
async def list_(request: Request) -> HTTPResponse:
    p = await caller(request)
    require_role(p, "customer", *STAFF_ROLES)
    query = parse_query(request, RmaListQuery)
    async with request.app.ctx.sessions() as session:
        customer_id = p.customer_id
        if p.role != "customer" and query.customer:
            customer_id = await svc.customer_id_for(session=session, code=query.customer)
        rows = await svc.list_rmas(
            session=session, customer_id=customer_id, status=query.status, limit=query.limit, offset=query.offset
        )
        return reply(views.rma_list(rows))


@bp.get("/<number:str>")
@endpoint(
    summary="One RMA (customers may read only their own)",
    responses={200: RmaOut, 401: None, 403: None, 404: None},
)
async def read(request: Request, number: str) -> HTTPResponse:
    p = await caller(request)
    require_role(p, "customer", *STAFF_ROLES)
    async with request.app.ctx.sessions() as session:
        row = await svc.get_rma(session=session, number=number)
        _own_only(p, row, number)
        return reply(views.rma(row))


@bp.patch("/<number:str>")
@endpoint(
    summary="Move an RMA on",
    description="requested → approved → shipped (tracking required) → delivered → closed; requested or approved "
    "may also be closed. Logged in the ticket's history; `shipped` informs the customer's notification parties "
    "with the tracking number. Support staff only.",
    body=RmaUpdate,
    responses={200: RmaUpdated, 401: None, 403: None, 404: None, 422: None},
)
async def patch(request: Request, number: str) -> HTTPResponse:
    p = await caller(request)
    require_role(p, *STAFF_ROLES)
    data = parse_body(request, RmaUpdate)
    async with transaction(request.app.ctx.sessions) as session:
        row = await svc.get_rma(session=session, number=number)
        event = await svc.update_rma(
            session=session,
            rma=row.rma,
            status=data.status,
            tracking=data.tracking,
            author=p.email,
            now=request.app.ctx.clock.now(),
        )
        return reply(views.rma_updated(row, event))
