"""`/api/v1/verification`: an anonymous chat visitor proves to be a customer's contact."""

from __future__ import annotations

import logging

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from promptlink.services import verification as svc
from promptlink.services.auth import require_conversation, require_role
from promptlink.transports.http.api import endpoint, parse_body, reply
from promptlink.transports.http.common import caller
from promptlink.transports.http.schemas.verification import CodeRefused, CodeSent, ConfirmIn, StartIn, Verified
from promptlink.transports.http.views import verification as views

log = logging.getLogger(__name__)
bp = Blueprint("verification", url_prefix="/api/v1/verification")


@bp.post("/start")
@endpoint(
    summary="Send a one-time code to a customer's contact",
    description="Body `{conversation_id, customer, email}`. When `email` is a contact of customer `customer`, a "
    '6-digit code valid for 10 minutes is e-mailed to it. The answer is always `{status: "sent"}`, so it '
    "never tells whether the e-mail belongs to the customer. At most 3 starts per conversation and hour (429). "
    "409 when the conversation already belongs to a contact. The action server (service token, with the "
    "conversation's `X-Conversation-Token`) only.",
    body=StartIn,
    responses={200: CodeSent, 401: None, 403: None, 404: None, 409: None, 422: None, 429: None},
)
async def start(request: Request) -> HTTPResponse:
    p = await caller(request)
    require_role(p, "service")
    data = parse_body(request, StartIn)
    require_conversation(p, data.conversation_id)
    await svc.start_verification(
        sessions=request.app.ctx.sessions,
        conversation_id=data.conversation_id,
        customer=data.customer,
        email=data.email,
        secret=request.app.ctx.settings.secret("session_secret"),
        now=request.app.ctx.clock.now(),
    )
    log.info("verification started", extra={"conversation_id": data.conversation_id})
    return reply(views.SENT)


@bp.post("/confirm")
@endpoint(
    summary="Check the one-time code; the conversation becomes the contact's",
    description="Body `{conversation_id, code}`. Success: `{verified: true, contact, customer, customer_name, "
    "name}`. A wrong code answers 422 with `attempts_left`; an expired code, too many attempts (5) or no code "
    "started answer 422 with a Spanish `message`. The action server (service token, with the conversation's "
    "`X-Conversation-Token`) only.",
    body=ConfirmIn,
    responses={200: Verified, 401: None, 403: None, 404: None, 422: CodeRefused},
)
async def confirm(request: Request) -> HTTPResponse:
    p = await caller(request)
    require_role(p, "service")
    data = parse_body(request, ConfirmIn)
    require_conversation(p, data.conversation_id)
    verified = await svc.confirm_verification(
        sessions=request.app.ctx.sessions,
        conversation_id=data.conversation_id,
        code=data.code,
        secret=request.app.ctx.settings.secret("session_secret"),
        now=request.app.ctx.clock.now(),
    )
    log.info(
        "verification confirmed", extra={"conversation_id": data.conversation_id, "customer": verified.customer_code}
    )
    return reply(views.verified(verified))
