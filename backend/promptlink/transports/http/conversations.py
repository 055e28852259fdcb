"""`/api/v1/conversations/{id}/handoff` and `/api/v1/queues/chats`: chats handed to humans."""

from __future__ import annotations

import logging
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from ...chat_gateway import ChatGateway
from ...db import transaction
from ...models.agent import TIERS
from ...services import handoff as svc
from ...services.auth import STAFF_ROLES, Forbidden, require_role
from .common import body, caller

log = logging.getLogger(__name__)
bp = Blueprint("conversations", url_prefix="/api/v1")


def _queued_json(item: svc.QueuedChat) -> dict[str, Any]:
    conversation = item.conversation
    return {
        "conversation_id": conversation.id,
        "tier": conversation.tier,
        "position": item.position,
        "customer": conversation.customer.code if conversation.customer else None,
        "customer_name": conversation.customer.name if conversation.customer else None,
        "contact": conversation.contact.email if conversation.contact else None,
        "name": conversation.contact.name if conversation.contact else None,
        "ticket": conversation.ticket_number,
        "reason": conversation.handoff_reason,
        "queued_at": conversation.queued_at.isoformat() if conversation.queued_at else None,
        "waiting_seconds": item.waiting_seconds,
    }


@bp.post("/conversations/<conversation_id:str>/handoff")
@openapi.definition(
    summary="Hand a chat to a human of tier L1, L2 or L3",
    description="Body `{tier, reason (≤300), ticket: number|null}`. The conversation moves to mode `queued` in "
    "the tier's queue; the customer gets a Spanish `system` message and a socket.io `handoff` event with "
    "position and estimated wait. Answers `{conversation_id, mode, tier, position, eta_seconds}`; a conversation "
    "already queued answers its current place (idempotent). 404 unknown conversation, 422 bad tier, reason or "
    "ticket, 409 already with an agent or closed. The action server (service token) and support staff only.",
)
async def handoff(request: Request, conversation_id: str) -> HTTPResponse:
    p = await caller(request)
    require_role(p, "service", *STAFF_ROLES)
    data = body(request)
    settings = request.app.ctx.settings
    async with transaction(request.app.ctx.sessions) as session:
        place = await svc.request_handoff(
            session=session,
            conversation_id=conversation_id,
            tier=data.get("tier"),
            reason=data.get("reason", ""),
            ticket_number=data.get("ticket"),
            now=request.app.ctx.clock.now(),
            default_wait_seconds=settings.handoff_default_wait_seconds,
            store_notice=False,
        )
    if place.notice_text is not None:
        gateway: ChatGateway = request.app.ctx.gateway
        await gateway.notify(
            conversation_id=place.conversation_id,
            event="handoff",
            data={"tier": place.tier, "position": place.position, "eta_seconds": place.eta_seconds},
        )
        gateway.post_after_turn(conversation_id=place.conversation_id, role="system", text=place.notice_text)
        log.info(
            "chat handed off",
            extra={
                "conversation_id": place.conversation_id,
                "tier": place.tier,
                "position": place.position,
                "by": p.email,
            },
        )
    return json(
        {
            "conversation_id": place.conversation_id,
            "mode": place.mode,
            "tier": place.tier,
            "position": place.position,
            "eta_seconds": place.eta_seconds,
        }
    )


@bp.get("/queues/chats")
@openapi.definition(
    summary="Chats waiting for a human, per tier",
    description="Each queue lists its conversations first in line first, with customer, contact, ticket, reason "
    "and `waiting_seconds`. Agents see their own tiers; supervisors and admins all three. Support staff only.",
)
async def queued_chats(request: Request) -> HTTPResponse:
    p = await caller(request)
    if not p.is_staff:
        raise Forbidden("chat queues are for support staff", public="No tiene permiso para esta acción.")
    now = request.app.ctx.clock.now()
    tiers = [t for t in TIERS if p.may_work_tier(t)]
    async with request.app.ctx.sessions() as session:
        queues = await svc.queued_chats(session=session, tiers=tiers, now=now)
        result = [
            {"tier": tier, "total": len(items), "conversations": [_queued_json(item) for item in items]}
            for tier, items in queues.items()
        ]
    return json({"now": now.isoformat(), "queues": result})
