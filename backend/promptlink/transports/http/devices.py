"""`/api/v1/customers/{code}/devices`: a customer's registered equipment, for the assistant's intake."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from promptlink.services import devices as svc
from promptlink.services.access import require_own_customer
from promptlink.services.auth import STAFF_ROLES, require_role
from promptlink.transports.http.api import endpoint, reply
from promptlink.transports.http.common import caller
from promptlink.transports.http.schemas.devices import CustomerDevices
from promptlink.transports.http.views import devices as views

bp = Blueprint("devices", url_prefix="/api/v1/customers")


@bp.get("/<code:str>/devices")
@endpoint(
    summary="A customer's registered devices (name, serial, model) and time zone",
    description="`{customer, timezone, devices: [{name, serial, model}]}`, by name. Cheap enough for the "
    "assistant to match what a customer calls its equipment and to read «since» in its time zone. Staff read "
    "any customer's; a customer (widget token, or the service token with `X-On-Behalf-Of` a contact) only its "
    "own: another company's is 404. The service token alone is nobody's customer: 403.",
    responses={200: CustomerDevices, 401: None, 403: None, 404: None},
)
async def list_(request: Request, code: str) -> HTTPResponse:
    p = await caller(request)
    require_role(p, "customer", *STAFF_ROLES)
    async with request.app.ctx.sessions() as session:
        customer, devices = await svc.devices_of(session=session, code=code)
    require_own_customer(p, customer.id, what=f"customer {code}", public="El cliente no existe.")
    return reply(views.customer_devices(customer, devices))
