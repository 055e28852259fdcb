"""`/api/v1/training-requests`: on-site training courses (docs/support-plan.md#courses)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from promptlink.infra.db import transaction
from promptlink.services import courses as svc
from promptlink.services.auth import STAFF_ROLES, require_role
from promptlink.transports.http.api import endpoint, parse_body, parse_query, reply
from promptlink.transports.http.common import caller
from promptlink.transports.http.schemas.courses import CourseIn, CourseList, CourseListQuery, CourseOut, CourseStatusIn
from promptlink.transports.http.views import courses as views

bp = Blueprint("training", url_prefix="/api/v1/training-requests")


@bp.post("")
@endpoint(
    summary="Request an on-site training course",
    description="Body `{customer?, contact?, requested_date (YYYY-MM-DD), attendees (1-6), site, topics?, "
    "facilities: {room, projector, whiteboard, workstations_internet}}`. Courses are on site, two days, up to six "
    "attendees; the date must be in the future. A date less than two weeks away is recorded and flagged "
    "`short_notice`; the materials notice is e-mailed two weeks before the date. Facilities not confirmed come "
    "back as a Spanish reminder. Customers request for their own company; staff and the action server name "
    "`customer` (or act with `X-On-Behalf-Of`).",
    body=CourseIn,
    responses={201: CourseOut, 401: None, 403: None, 404: None, 422: None},
)
async def create(request: Request) -> HTTPResponse:
    p = await caller(request)
    require_role(p, "customer", "service", *STAFF_ROLES)
    data = parse_body(request, CourseIn)
    async with transaction(request.app.ctx.sessions) as session:
        customer, contact = await svc.requester_for(
            session=session, caller=p, customer_code=data.customer, contact_email=data.contact
        )
        training = await svc.request_training(
            session=session,
            customer=customer,
            contact=contact,
            requested_date=data.requested_date,
            attendees=data.attendees,
            site=data.site,
            topics=data.topics,
            facilities=data.facilities,
            now=request.app.ctx.clock.now(),
        )
        row = svc.TrainingRow(training, customer.code, contact.email if contact else None)
        return reply(views.training_request(row), status=201)


@bp.get("")
@endpoint(
    summary="List training requests",
    description="Soonest date first. Filters: `status` (requested, confirmed, completed, cancelled), `customer` "
    "(staff), `limit`, `offset`. Staff see all; a customer only its own company's.",
    query=CourseListQuery,
    responses={200: CourseList, 401: None, 403: None, 422: None},
)
async def list_(request: Request) -> HTTPResponse:
    p = await caller(request)
    require_role(p, "customer", *STAFF_ROLES)
    query = parse_query(request, CourseListQuery)
    async with request.app.ctx.sessions() as session:
        customer_id = p.customer_id
        if p.role != "customer" and query.customer:
            customer, _contact = await svc.requester(session=session, customer_code=query.customer, contact_email=None)
            customer_id = customer.id
        rows = await svc.list_training_requests(
            session=session,
            filters=svc.TrainingFilter(customer_id=customer_id, status=query.status or None),
            limit=query.limit,
            offset=query.offset,
        )
        return reply(views.training_list(rows))


@bp.patch("/<request_id:int>")
@endpoint(
    summary="Confirm, complete or cancel a training request",
    description="Body `{status}`: requested → confirmed → completed; requested or confirmed → cancelled. "
    "Support staff only.",
    body=CourseStatusIn,
    responses={200: CourseOut, 401: None, 403: None, 404: None, 422: None},
)
async def patch(request: Request, request_id: int) -> HTTPResponse:
    p = await caller(request)
    require_role(p, *STAFF_ROLES)
    data = parse_body(request, CourseStatusIn)
    async with transaction(request.app.ctx.sessions) as session:
        row = await svc.get_training_request(session=session, request_id=request_id)
        svc.change_status(row.request, data.status)
        return reply(views.training_request(row))
