"""`/api/v1/queues` and `/api/v1/customers`: what support staff work from."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from promptlink.services import customers as customer_svc
from promptlink.services.access import require_own_customer
from promptlink.services.auth import Forbidden
from promptlink.services.ticket_queues import tier_queues
from promptlink.transports.http.api import endpoint, reply
from promptlink.transports.http.common import caller
from promptlink.transports.http.schemas.queues import CustomerList, CustomerOut, QueuesOut
from promptlink.transports.http.views import queues as views
from promptlink.vocabulary import TIERS

bp = Blueprint("queues", url_prefix="/api/v1")


@bp.get("/queues")
@endpoint(
    summary="Open tickets per tier, most urgent update first",
    description="Agents see their own tiers; supervisors and admins see all three. Each queue lists its open "
    "tickets with `next_update_due`; `overdue` counts those past due.",
    responses={200: QueuesOut, 401: None, 403: None},
)
async def queues(request: Request) -> HTTPResponse:
    p = await caller(request)
    if not p.is_staff:
        raise Forbidden("queues are for support staff", public="No tiene permiso para esta acción.")
    now = request.app.ctx.clock.now()
    async with request.app.ctx.sessions() as session:
        found = await tier_queues(session=session, tiers=[t for t in TIERS if p.may_work_tier(t)], now=now)
        return reply(views.queues(found, now=now))


@bp.get("/customers")
@endpoint(
    summary="Customers with contracts, contacts and devices (staff: all; customer: its own)",
    responses={200: CustomerList, 401: None},
)
async def customers(request: Request) -> HTTPResponse:
    p = await caller(request)
    today = request.app.ctx.clock.now().date()
    own = None
    if p.role == "customer":
        assert p.customer_id is not None
        own = p.customer_id
    async with request.app.ctx.sessions() as session:
        found = await customer_svc.list_customers(session=session, customer_id=own)
        return reply(views.customer_list(found, today=today))


@bp.get("/customers/<code:str>")
@endpoint(
    summary="One customer (customers may read only their own)",
    responses={200: CustomerOut, 401: None, 404: None},
)
async def customer(request: Request, code: str) -> HTTPResponse:
    p = await caller(request)
    async with request.app.ctx.sessions() as session:
        found = await customer_svc.get_customer(session=session, code=code)
        require_own_customer(p, found.customer.id, what=f"customer {code}", public="El cliente no existe.")
        return reply(views.customer(found, today=request.app.ctx.clock.now().date()))
