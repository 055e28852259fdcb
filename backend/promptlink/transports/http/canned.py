"""`/api/v1/canned-responses`: the agent console's canned replies (rules/canned_responses.yml)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from promptlink.services.auth import Forbidden
from promptlink.services.canned_responses import CannedFile
from promptlink.transports.http.api import endpoint, reply
from promptlink.transports.http.common import caller
from promptlink.transports.http.schemas.canned import CannedResponseList
from promptlink.transports.http.views import canned as views

bp = Blueprint("canned", url_prefix="/api/v1")


@bp.get("/canned-responses")
@endpoint(
    summary="Canned replies for the console: the common ones and those of the caller's tiers",
    description="Support staff only. Agents get the `common` responses and those of the tiers they work; "
    "supervisors and admins get all. Texts hold the placeholders {nombre} (the customer's contact name) "
    "and {tiquete} (the ticket number), filled by the console. Edited in rules/canned_responses.yml "
    "(re-read on change).",
    responses={200: CannedResponseList, 401: None, 403: None},
)
async def canned_responses(request: Request) -> HTTPResponse:
    p = await caller(request)
    if not p.is_staff:
        raise Forbidden("canned responses are for support staff", public="No tiene permiso para esta acción.")
    canned: CannedFile = request.app.ctx.canned
    return reply(views.canned_list(canned.for_principal(p)))
