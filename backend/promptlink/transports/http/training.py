"""`/api/v1/training-requests`: on-site training courses (the seed's «Servicios de Capacitación»)."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.infra.db import transaction
from promptlink.models import Contact, Customer
from promptlink.models.training import MATERIALS_NOTICE_DAYS
from promptlink.services import courses as svc
from promptlink.services.auth import STAFF_ROLES, Principal, require_role
from promptlink.services.errors import NotFound
from promptlink.transports.http.common import body, caller, int_arg

bp = Blueprint("training", url_prefix="/api/v1/training-requests")
SHORT_NOTICE = (
    "La fecha está a menos de dos semanas: la solicitud queda registrada, pero el aviso del material "
    "necesario no podrá enviarse con dos semanas de antelación."
)


def _training_json(row: svc.TrainingRow) -> dict[str, Any]:
    request = row.request
    return {
        "id": request.id,
        "customer": row.customer_code,
        "contact": row.contact_email,
        "requested_date": request.requested_date.isoformat(),
        "duration_days": request.duration_days,
        "attendees": request.attendees,
        "site": request.site,
        "topics": request.topics,
        "facilities": {key: getattr(request, column) for key, (column, _name) in svc.FACILITIES.items()},
        "missing_facilities": svc.missing_facilities(request),
        "facilities_reminder": svc.facilities_reminder(request),
        "short_notice": request.short_notice,
        "short_notice_message": SHORT_NOTICE if request.short_notice else None,
        "materials_notice_days": MATERIALS_NOTICE_DAYS,
        "materials_notice_due": request.materials_notice_due.isoformat(),
        "materials_notice_sent_at": (
            request.materials_notice_sent_at.isoformat() if request.materials_notice_sent_at else None
        ),
        "status": request.status,
        "status_name": svc.STATUS_NAMES[request.status],
        "created_at": request.created_at.isoformat(),
    }


async def _requester(session: AsyncSession, p: Principal, data: dict[str, Any]) -> tuple[Customer, Contact | None]:
    """A customer asks for its own company; staff and the action server name the customer."""
    if p.role != "customer":
        return await svc.requester(
            session=session, customer_code=data.get("customer"), contact_email=data.get("contact")
        )
    customer = await session.get(Customer, p.customer_id)
    if customer is None or data.get("customer") not in (None, customer.code):
        raise NotFound(f"customer {data.get('customer')} not found", public="El cliente no existe.")
    contact = await session.get(Contact, p.contact_id) if p.contact_id is not None else None
    return customer, contact


@bp.post("")
@openapi.definition(
    summary="Request an on-site training course",
    description="Body `{customer?, contact?, requested_date (YYYY-MM-DD), attendees (1-6), site, topics?, "
    "facilities: {room, projector, whiteboard, workstations_internet}}`. Courses are on site, two days, up to six "
    "attendees; the date must be in the future. A date less than two weeks away is recorded and flagged "
    "`short_notice`; the materials notice is e-mailed two weeks before the date. Facilities not confirmed come "
    "back as a Spanish reminder. Customers request for their own company; staff and the action server name "
    "`customer` (or act with `X-On-Behalf-Of`).",
)
async def create(request: Request) -> HTTPResponse:
    p = await caller(request)
    require_role(p, "customer", "service", *STAFF_ROLES)
    data = body(request)
    async with transaction(request.app.ctx.sessions) as session:
        customer, contact = await _requester(session, p, data)
        training = await svc.request_training(
            session=session,
            customer=customer,
            contact=contact,
            requested_date=data.get("requested_date"),
            attendees=data.get("attendees"),
            site=data.get("site"),
            topics=data.get("topics"),
            facilities=data.get("facilities"),
            now=request.app.ctx.clock.now(),
        )
        row = svc.TrainingRow(training, customer.code, contact.email if contact else None)
        return json(_training_json(row), status=201)


@bp.get("")
@openapi.definition(
    summary="List training requests",
    description="Soonest date first. Filters: `status` (requested, confirmed, completed, cancelled), `customer` "
    "(staff), `limit`, `offset`. Staff see all; a customer only its own company's.",
)
async def list_(request: Request) -> HTTPResponse:
    p = await caller(request)
    require_role(p, "customer", *STAFF_ROLES)
    async with request.app.ctx.sessions() as session:
        customer_id = p.customer_id
        code = request.args.get("customer")
        if p.role != "customer" and code:
            customer, _contact = await svc.requester(session=session, customer_code=code, contact_email=None)
            customer_id = customer.id
        rows = await svc.list_training_requests(
            session=session,
            filters=svc.TrainingFilter(customer_id=customer_id, status=request.args.get("status") or None),
            limit=int_arg(request, "limit", 50, low=1, high=200),
            offset=int_arg(request, "offset", 0, low=0, high=10**9),
        )
        return json({"items": [_training_json(row) for row in rows]})


@bp.patch("/<request_id:int>")
@openapi.definition(
    summary="Confirm, complete or cancel a training request",
    description="Body `{status}`: requested → confirmed → completed; requested or confirmed → cancelled. "
    "Support staff only.",
)
async def patch(request: Request, request_id: int) -> HTTPResponse:
    p = await caller(request)
    require_role(p, *STAFF_ROLES)
    data = body(request)
    async with transaction(request.app.ctx.sessions) as session:
        row = await svc.get_training_request(session=session, request_id=request_id)
        svc.change_status(row.request, data.get("status"))
        return json(_training_json(row))
