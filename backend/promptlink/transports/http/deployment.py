"""`/api/v1/customers/{code}/deployment-plan`: the five-stage deployment plan (docs/support-plan.md#deployment-plan)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from promptlink.infra.db import transaction
from promptlink.models import Customer
from promptlink.services import deployment as svc
from promptlink.services.access import require_own_customer
from promptlink.services.auth import STAFF_ROLES, Principal, require_role
from promptlink.transports.http.api import endpoint, parse_body, reply
from promptlink.transports.http.common import caller
from promptlink.transports.http.schemas.deployment import PlanMove, PlanOut
from promptlink.transports.http.views import deployment as views

bp = Blueprint("deployment", url_prefix="/api/v1/customers")


def _own_only(p: Principal, customer: Customer) -> None:
    """A customer (or the assistant on its behalf) reads only its own plan; others' do not exist."""
    require_own_customer(p, customer.id, what=f"customer {customer.code}", public="El cliente no existe.")


@bp.get("/<code:str>/deployment-plan")
@endpoint(
    summary="A customer's deployment plan",
    description="The five stages of Promptlink's installation and deployment plan, each `done`, `current` or "
    "`pending`, with the history of stage changes. Staff read any customer's plan; a customer (or the action "
    "server with `X-On-Behalf-Of`) only its own.",
    responses={200: PlanOut, 401: None, 403: None, 404: None},
)
async def read(request: Request, code: str) -> HTTPResponse:
    p = await caller(request)
    # The service token alone is nobody's customer: the assistant reads with X-On-Behalf-Of.
    require_role(p, "customer", *STAFF_ROLES)
    async with request.app.ctx.sessions() as session:
        customer = await svc.get_customer(session=session, code=code)
        _own_only(p, customer)
        plan = await svc.get_plan(session=session, customer=customer)
        return reply(views.plan(customer, plan))


@bp.patch("/<code:str>/deployment-plan")
@endpoint(
    summary="Move a customer's deployment plan to another stage",
    description="Body `{stage: 1-5, note?}`; forward or back, logged with its author. Support staff only.",
    body=PlanMove,
    responses={200: PlanOut, 401: None, 403: None, 404: None, 422: None},
)
async def patch(request: Request, code: str) -> HTTPResponse:
    p = await caller(request)
    require_role(p, *STAFF_ROLES)
    data = parse_body(request, PlanMove)
    async with transaction(request.app.ctx.sessions) as session:
        customer = await svc.get_customer(session=session, code=code)
        plan = await svc.move_stage(
            session=session,
            customer=customer,
            stage=data.stage,
            note=data.note,
            author=p.email,
            now=request.app.ctx.clock.now(),
        )
        return reply(views.plan(customer, plan))
