"""`/api/v1/customers/{code}/deployment-plan`: the seed's five-stage deployment plan."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from promptlink.infra.db import transaction
from promptlink.models import Customer, DeploymentPlan
from promptlink.models.deployment import STAGES
from promptlink.services import deployment as svc
from promptlink.services.access import require_own_customer
from promptlink.services.auth import STAFF_ROLES, Principal, require_role
from promptlink.transports.http.common import body, caller

bp = Blueprint("deployment", url_prefix="/api/v1/customers")


def _own_only(p: Principal, customer: Customer) -> None:
    """A customer (or the assistant on its behalf) reads only its own plan; others' do not exist."""
    require_own_customer(p, customer.id, what=f"customer {customer.code}", public="El cliente no existe.")


def _plan_json(customer: Customer, plan: DeploymentPlan) -> dict[str, Any]:
    return {
        "customer": customer.code,
        "customer_name": customer.name,
        "current_stage": plan.stage,
        "current_stage_name": plan.stage_name,
        "updated_at": plan.updated_at.isoformat(),
        "stages": [{"number": s.number, "name": s.name, "state": s.state} for s in svc.stage_states(plan.stage)],
        "history": [
            {
                "stage": change.stage,
                "stage_name": STAGES[change.stage],
                "note": change.note,
                "author": change.author,
                "at": change.at.isoformat(),
            }
            for change in plan.history
        ],
    }


@bp.get("/<code:str>/deployment-plan")
@openapi.definition(
    summary="A customer's deployment plan",
    description="The five stages of Promptlink's installation and deployment plan, each `done`, `current` or "
    "`pending`, with the history of stage changes. Staff read any customer's plan; a customer (or the action "
    "server with `X-On-Behalf-Of`) only its own.",
)
async def read(request: Request, code: str) -> HTTPResponse:
    p = await caller(request)
    # The service token alone is nobody's customer: the assistant reads with X-On-Behalf-Of.
    require_role(p, "customer", *STAFF_ROLES)
    async with request.app.ctx.sessions() as session:
        customer = await svc.get_customer(session=session, code=code)
        _own_only(p, customer)
        plan = await svc.get_plan(session=session, customer=customer)
        return json(_plan_json(customer, plan))


@bp.patch("/<code:str>/deployment-plan")
@openapi.definition(
    summary="Move a customer's deployment plan to another stage",
    description="Body `{stage: 1-5, note?}`; forward or back, logged with its author. Support staff only.",
)
async def patch(request: Request, code: str) -> HTTPResponse:
    p = await caller(request)
    require_role(p, *STAFF_ROLES)
    data = body(request)
    async with transaction(request.app.ctx.sessions) as session:
        customer = await svc.get_customer(session=session, code=code)
        plan = await svc.move_stage(
            session=session,
            customer=customer,
            stage=data.get("stage"),
            note=data.get("note"),
            author=p.email,
            now=request.app.ctx.clock.now(),
        )
        return json(_plan_json(customer, plan))
