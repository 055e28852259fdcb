"""`/api/v1/conversations/{id}/handoff` and `/api/v1/queues/chats`: chats handed to humans."""

from __future__ import annotations

import logging
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi
from sqlalchemy import select

from promptlink.chat.gateway import ChatGateway
from promptlink.chat.live_chat import LiveChat, conversation_summary
from promptlink.infra.db import transaction
from promptlink.models import Agent, Contract, ConversationEvent, Message, Ticket
from promptlink.models.agent import TIERS
from promptlink.services import agent_chat as live_svc
from promptlink.services import handoff as svc
from promptlink.services.auth import STAFF_ROLES, Forbidden, require_conversation, require_role
from promptlink.services.conversations import messages_after
from promptlink.transports.http.common import body, caller, int_arg, tickets_json

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
    "ticket, 409 already with an agent or closed. The action server (service token, with this conversation's "
    "`X-Conversation-Token`) and support staff only.",
)
async def handoff(request: Request, conversation_id: str) -> HTTPResponse:
    p = await caller(request)
    require_role(p, "service", *STAFF_ROLES)
    require_conversation(p, conversation_id)
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
            author=p.email,
        )
    if place.notice_text is not None:
        gateway: ChatGateway = request.app.ctx.gateway
        await gateway.notify(
            conversation_id=place.conversation_id,
            event="handoff",
            data={"tier": place.tier, "position": place.position, "eta_seconds": place.eta_seconds},
        )
        gateway.post_after_turn(
            conversation_id=place.conversation_id, role="system", text=place.notice_text, queued=True
        )
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


# --- live chat: a person takes the conversation -------------------------------------------


def _live(request: Request) -> LiveChat:
    live: LiveChat = request.app.ctx.live
    return live


def _contract_json(contract: Contract) -> dict[str, Any]:
    return {
        "kind": contract.kind,
        "starts_on": contract.starts_on.isoformat(),
        "ends_on": contract.ends_on.isoformat(),
    }


@bp.get("/conversations/<conversation_id:str>")
@openapi.definition(
    summary="A conversation for the console: state, transcript, internal notes, customer, contracts, ticket",
    description="`{conversation, customer {code, name, timezone, contracts}, contact, ticket, messages, events}`. "
    "`messages` is the whole transcript (bot, customer, agent, system) in `seq` order; `events` the internal "
    "log (queued, claimed, transferred, handed_back, closed, rated, note). Agents see conversations of their "
    "tiers and the lower ones, or that they handle or handled; supervisors and admins all (403 otherwise).",
)
async def conversation_detail(request: Request, conversation_id: str) -> HTTPResponse:
    p = await caller(request)
    if not p.is_staff:
        raise Forbidden("conversations are for support staff", public="No tiene permiso para esta acción.")
    async with request.app.ctx.sessions() as session:
        conversation = await live_svc.visible_conversation(session, p, conversation_id)
        messages = await messages_after(session=session, conversation_id=conversation.id, last_seq=0, limit=5000)
        events = await session.scalars(
            select(ConversationEvent)
            .where(ConversationEvent.conversation_id == conversation.id)
            .order_by(ConversationEvent.id)
        )
        ticket = (
            await session.scalar(select(Ticket).where(Ticket.number == conversation.ticket_number))
            if conversation.ticket_number
            else None
        )
        customer = conversation.customer
        contracts = list(await customer.awaitable_attrs.contracts) if customer else []
        result = {
            "conversation": conversation_summary(conversation),
            "customer": {
                "code": customer.code,
                "name": customer.name,
                "timezone": customer.timezone,
                "contracts": [_contract_json(c) for c in contracts],
            }
            if customer
            else None,
            "contact": {"email": conversation.contact.email, "name": conversation.contact.name}
            if conversation.contact
            else None,
            "ticket": (await tickets_json(session, [ticket], staff=True))[0] if ticket else None,
            "messages": [m.to_event() | _parse_json(m) for m in messages],
            "events": [e.to_json() for e in events],
        }
    return json(result)


def _parse_json(message: Message) -> dict[str, Any]:
    if message.role != "customer" or message.intent is None:
        return {}
    return {"intent": message.intent, "confidence": message.confidence}


@bp.get("/conversations")
@openapi.definition(
    summary="The caller's live chats (mode human, assigned to them)",
    description="`{conversations: [summary…]}`; `?agent_id=` lets supervisors see another agent's chats.",
)
async def my_conversations(request: Request) -> HTTPResponse:
    p = await caller(request)
    if not p.is_staff or p.agent_id is None:
        raise Forbidden("live chats are for support staff", public="No tiene permiso para esta acción.")
    agent_id = p.agent_id
    if "agent_id" in request.args and p.sees_all_tiers:
        agent_id = int_arg(request, "agent_id", p.agent_id, low=1, high=2**31)
    async with request.app.ctx.sessions() as session:
        chats = await live_svc.agent_chats(session, agent_id)
        return json({"conversations": [conversation_summary(c) for c in chats]})


@bp.post("/conversations/<conversation_id:str>/claim")
@openapi.definition(
    summary="Take a queued chat",
    description="The caller must work the chat's tier and have a free seat (capacity). The customer is told "
    "the agent's name (`agent_joined`). 409 when it is no longer queued or the agent is at capacity; 403 for "
    "another tier. A repeated claim by the same agent answers 200 again.",
)
async def claim(request: Request, conversation_id: str) -> HTTPResponse:
    p = await caller(request)
    change = await _live(request).claim(p, conversation_id)
    return json(conversation_summary(change.conversation))


@bp.post("/conversations/<conversation_id:str>/transfer")
@openapi.definition(
    summary="Transfer a chat to another tier's queue",
    description="Body `{tier: L1|L2|L3, reason (1–300, internal)}`. The assigned agent (or a supervisor) of a "
    "live chat, or staff of the tier of a queued one. The customer is told the new level and place.",
)
async def transfer(request: Request, conversation_id: str) -> HTTPResponse:
    p = await caller(request)
    data = body(request)
    change = await _live(request).transfer(p, conversation_id, data.get("tier"), data.get("reason"))
    return json(conversation_summary(change.conversation))


@bp.post("/conversations/<conversation_id:str>/hand-back")
@openapi.definition(
    summary="Hand the chat back to the assistant",
    description="The customer is told the assistant answers again; their next message goes to Rasa.",
)
async def hand_back(request: Request, conversation_id: str) -> HTTPResponse:
    p = await caller(request)
    change = await _live(request).hand_back(p, conversation_id)
    return json(conversation_summary(change.conversation))


@bp.post("/conversations/<conversation_id:str>/close")
@openapi.definition(
    summary="Close a live chat with a resolution",
    description="Body `{resolution (1–2000)}`. The customer is asked for a satisfaction rating (1–5 and a "
    "comment) over the chat socket (`rate`). Staff: the agent handling the chat, or a supervisor or admin "
    "(409 when nobody handles it). A customer (widget identity, or the assistant on its behalf) ends only its "
    "own chat, `resolution` optional; anybody else's answers 404 as an unknown id.",
)
async def close(request: Request, conversation_id: str) -> HTTPResponse:
    p = await caller(request)
    data = body(request)
    change = await _live(request).close(p, conversation_id, data.get("resolution"))
    return json(conversation_summary(change.conversation))


@bp.post("/conversations/<conversation_id:str>/notes")
@openapi.definition(
    summary="Add an internal note to a conversation (never shown to the customer)",
    description="Body `{text (1–4000)}`. Support staff who may see the conversation.",
)
async def add_note(request: Request, conversation_id: str) -> HTTPResponse:
    p = await caller(request)
    if not p.is_staff:
        raise Forbidden("notes are for support staff", public="No tiene permiso para esta acción.")
    data = body(request)
    note = await _live(request).note(p, conversation_id, data.get("text"))
    return json(note, status=201)


@bp.put("/agents/me/presence")
@openapi.definition(
    summary="Set the caller's presence: online, away or offline",
    description="Body `{presence}`. Only `online` agents are offered chats (automatic assignment) and count as "
    "available for their tiers.",
)
async def set_presence(request: Request) -> HTTPResponse:
    p = await caller(request)
    data = body(request)
    agent = await _live(request).set_presence(p, data.get("presence"))
    return json({"presence": agent.presence, "capacity": agent.capacity})


@bp.get("/agents")
@openapi.definition(
    summary="Support staff with presence, tiers, capacity and current chats",
    description="Supervisors and admins see everyone; agents see the agents of their own tiers.",
)
async def list_agents(request: Request) -> HTTPResponse:
    p = await caller(request)
    if not p.is_staff:
        raise Forbidden("agents are listed for support staff", public="No tiene permiso para esta acción.")
    async with request.app.ctx.sessions() as session:
        agents = list(await session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.id)))
        result = []
        for agent in agents:
            if not p.sees_all_tiers and not set(agent.tier_list) & set(p.tiers):
                continue
            result.append(
                {
                    "id": agent.id,
                    "name": agent.name,
                    "role": agent.role,
                    "tiers": agent.tier_list,
                    "presence": agent.presence,
                    "capacity": agent.capacity,
                    "on_call": agent.on_call,
                    "active_chats": await live_svc.active_chats(session, agent.id),
                }
            )
    return json({"agents": result})
