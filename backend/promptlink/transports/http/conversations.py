"""`/api/v1/conversations`, `/api/v1/queues/chats` and `/api/v1/agents`: chats handed to people.

The handoff goes through the one handoff orchestrator (`chat/handoff.py`), the live-chat
operations through `chat/live_chat.py`; the JSON is built by `views/conversations.py`.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from promptlink.chat.handoff import Handoff
from promptlink.chat.live_chat import LiveChat
from promptlink.chat.views import conversation_summary
from promptlink.services import agent_chat as live_svc
from promptlink.services import attachments
from promptlink.services import conversation_history as history_svc
from promptlink.services import handoff as svc
from promptlink.services.auth import STAFF_ROLES, Forbidden, Principal, require_conversation, require_role
from promptlink.transports.http.api import endpoint, parse_body, parse_query, reply
from promptlink.transports.http.common import caller, int_arg
from promptlink.transports.http.schemas.conversations import (
    AgentList,
    ChatQueues,
    CloseIn,
    ConversationDetail,
    ConversationHistory,
    ConversationList,
    ConversationsQuery,
    ConversationSummary,
    HandoffIn,
    HandoffPlace,
    HistoryQuery,
    NoteIn,
    NoteOut,
    PresenceIn,
    PresenceOut,
    TransferIn,
)
from promptlink.transports.http.views import conversations as views
from promptlink.transports.http.views.tickets import tickets_json
from promptlink.vocabulary import TIERS

bp = Blueprint("conversations", url_prefix="/api/v1")
NOT_ALLOWED = "No tiene permiso para esta acción."


def _live(request: Request) -> LiveChat:
    live: LiveChat = request.app.ctx.live
    return live


def _staff_only(p: Principal, detail: str) -> None:
    if not p.is_staff:
        raise Forbidden(detail, public=NOT_ALLOWED)


@bp.post("/conversations/<conversation_id:str>/handoff")
@endpoint(
    summary="Hand a chat to a human of tier L1, L2 or L3",
    description="Body `{tier, reason (≤300), ticket: number|null}`. The conversation moves to mode `queued` in "
    "the tier's queue; the customer gets a Spanish `system` message and a socket.io `handoff` event with "
    "position and estimated wait. Answers `{conversation_id, mode, tier, position, eta_seconds}`; a conversation "
    "already queued answers its current place (idempotent). 404 unknown conversation, 422 bad tier, reason or "
    "ticket, 409 already with an agent or closed. The action server (service token, with this conversation's "
    "`X-Conversation-Token`) and support staff only.",
    body=HandoffIn,
    responses={200: HandoffPlace, 401: None, 403: None, 404: None, 409: None, 422: None},
)
async def handoff(request: Request, conversation_id: str) -> HTTPResponse:
    p = await caller(request)
    require_role(p, "service", *STAFF_ROLES)
    require_conversation(p, conversation_id)
    data = parse_body(request, HandoffIn)
    orchestrator: Handoff = request.app.ctx.handoff
    place = await orchestrator.request(
        conversation_id=conversation_id, tier=data.tier, reason=data.reason, ticket=data.ticket, author=p.email
    )
    return reply(views.handoff_place(place))


@bp.get("/queues/chats")
@endpoint(
    summary="Chats waiting for a human, per tier",
    description="Each queue lists its conversations first in line first, with customer, contact, ticket, reason, "
    "`waiting_seconds`, the ticket's `priority` and the customer's `last_message` (≤ 140 characters). "
    "Agents see their own tiers; supervisors and admins all three. Support staff only.",
    responses={200: ChatQueues, 401: None, 403: None},
)
async def queued_chats(request: Request) -> HTTPResponse:
    p = await caller(request)
    _staff_only(p, "chat queues are for support staff")
    now = request.app.ctx.clock.now()
    async with request.app.ctx.sessions() as session:
        queues = await svc.queued_chats(session=session, tiers=[t for t in TIERS if p.may_work_tier(t)], now=now)
        queues = await svc.with_previews(session=session, queues=queues)
        return reply(views.chat_queues(queues, now=now))


# --- live chat: a person takes the conversation -------------------------------------------


@bp.get("/conversations/<conversation_id:str>")
@endpoint(
    summary="A conversation for the console: state, transcript, internal notes, customer, contracts, ticket",
    description="`{conversation, customer {code, name, timezone, contracts}, contact, ticket, messages, events}`. "
    "`messages` is the whole transcript (bot, customer, agent, system) in `seq` order; `events` the internal "
    "log (queued, claimed, transferred, handed_back, closed, rated, note). Agents see conversations of their "
    "tiers and the lower ones, or that they handle or handled; supervisors and admins all (403 otherwise).",
    responses={200: ConversationDetail, 401: None, 403: None, 404: None},
)
async def conversation_detail(request: Request, conversation_id: str) -> HTTPResponse:
    p = await caller(request)
    _staff_only(p, "conversations are for support staff")
    async with request.app.ctx.sessions() as session:
        record = await live_svc.conversation_record(session, p, conversation_id)
        ticket = (await tickets_json(session, [record.ticket], staff=True))[0] if record.ticket else None
        detail = views.conversation_detail(record, ticket=ticket)
        await attachments.add_to_events(session, conversation_id, detail["messages"])  # files sent in the chat
        return reply(detail)


@bp.get("/conversations/history")
@endpoint(
    summary="Recent and closed chats, with search",
    description="`status=recent`: the chats the caller took at some point, whatever their state now; "
    "`status=closed` (default): the closed chats the caller may read (agents: their tiers and the lower ones, "
    "and chats they handled; supervisors and admins: all). `q` (≤ 100 characters, `%` and `_` literal) matches "
    "the customer's name or code, the contact's name, the ticket number or any message's text. Most recent "
    "first; `limit` 1–50 (default 20), `offset`. Support staff only (customers 403). Open one with "
    "`GET /conversations/{id}` (its transcript).",
    query=HistoryQuery,
    responses={200: ConversationHistory, 401: None, 403: None, 422: None},
)
async def conversation_history(request: Request) -> HTTPResponse:
    p = await caller(request)
    _staff_only(p, "conversation history is for support staff")
    query = parse_query(request, HistoryQuery)
    async with request.app.ctx.sessions() as session:
        page = await history_svc.conversation_history(
            session=session, principal=p, status=query.status, q=query.q, limit=query.limit, offset=query.offset
        )
        return reply(views.conversation_history(page, limit=query.limit, offset=query.offset))


@bp.get("/conversations")
@endpoint(
    summary="The caller's live chats (mode human, assigned to them)",
    description="`{conversations: [summary…]}`; `?agent_id=` lets supervisors see another agent's chats.",
    query=ConversationsQuery,
    responses={200: ConversationList, 401: None, 403: None, 422: None},
)
async def my_conversations(request: Request) -> HTTPResponse:
    p = await caller(request)
    if not p.is_staff or p.agent_id is None:
        raise Forbidden("live chats are for support staff", public=NOT_ALLOWED)
    agent_id = p.agent_id
    if "agent_id" in request.args and p.sees_all_tiers:
        agent_id = int_arg(request, "agent_id", p.agent_id, low=1, high=2**31)
    async with request.app.ctx.sessions() as session:
        return reply(views.conversation_list(await live_svc.agent_chats(session, agent_id)))


@bp.post("/conversations/<conversation_id:str>/claim")
@endpoint(
    summary="Take a queued chat",
    description="The caller must work the chat's tier and have a free seat (capacity). The customer is told "
    "the agent's name (`agent_joined`). 409 when it is no longer queued or the agent is at capacity; 403 for "
    "another tier. A repeated claim by the same agent answers 200 again.",
    responses={200: ConversationSummary, 401: None, 403: None, 404: None, 409: None},
)
async def claim(request: Request, conversation_id: str) -> HTTPResponse:
    p = await caller(request)
    change = await _live(request).claim(p, conversation_id)
    return reply(conversation_summary(change.conversation))


@bp.post("/conversations/<conversation_id:str>/transfer")
@endpoint(
    summary="Transfer a chat to another tier's queue",
    description="Body `{tier: L1|L2|L3, reason (1–300, internal)}`. The assigned agent (or a supervisor) of a "
    "live chat, or staff of the tier of a queued one. The customer is told the new level and place.",
    body=TransferIn,
    responses={200: ConversationSummary, 401: None, 403: None, 404: None, 409: None, 422: None},
)
async def transfer(request: Request, conversation_id: str) -> HTTPResponse:
    p = await caller(request)
    data = parse_body(request, TransferIn)
    change = await _live(request).transfer(p, conversation_id, data.tier, data.reason)
    return reply(conversation_summary(change.conversation))


@bp.post("/conversations/<conversation_id:str>/hand-back")
@endpoint(
    summary="Hand the chat back to the assistant",
    description="The customer is told the assistant answers again; their next message goes to Rasa.",
    responses={200: ConversationSummary, 401: None, 403: None, 404: None, 409: None},
)
async def hand_back(request: Request, conversation_id: str) -> HTTPResponse:
    p = await caller(request)
    change = await _live(request).hand_back(p, conversation_id)
    return reply(conversation_summary(change.conversation))


@bp.post("/conversations/<conversation_id:str>/close")
@endpoint(
    summary="Close a live chat with a resolution",
    description="Body `{resolution (1–2000)}`. The customer is asked for a satisfaction rating (1–5 and a "
    "comment) over the chat socket (`rate`). Staff: the agent handling the chat, or a supervisor or admin "
    "(409 when nobody handles it). A customer (widget identity, or the assistant on its behalf) ends only its "
    "own chat, `resolution` optional; anybody else's answers 404 as an unknown id.",
    body=CloseIn,
    responses={200: ConversationSummary, 401: None, 403: None, 404: None, 409: None, 422: None},
)
async def close(request: Request, conversation_id: str) -> HTTPResponse:
    p = await caller(request)
    data = parse_body(request, CloseIn)
    change = await _live(request).close(p, conversation_id, data.resolution)
    return reply(conversation_summary(change.conversation))


@bp.post("/conversations/<conversation_id:str>/notes")
@endpoint(
    summary="Add an internal note to a conversation (never shown to the customer)",
    description="Body `{text (1–4000)}`. Support staff who may see the conversation.",
    body=NoteIn,
    responses={201: NoteOut, 401: None, 403: None, 404: None, 422: None},
)
async def add_note(request: Request, conversation_id: str) -> HTTPResponse:
    p = await caller(request)
    _staff_only(p, "notes are for support staff")
    data = parse_body(request, NoteIn)
    return reply(await _live(request).note(p, conversation_id, data.text), status=201)


@bp.put("/agents/me/presence")
@endpoint(
    summary="Set the caller's presence: online, away or offline",
    description="Body `{presence}`. Only `online` agents are offered chats (automatic assignment) and count as "
    "available for their tiers.",
    body=PresenceIn,
    responses={200: PresenceOut, 401: None, 403: None, 422: None},
)
async def set_presence(request: Request) -> HTTPResponse:
    p = await caller(request)
    data = parse_body(request, PresenceIn)
    return reply(views.presence(await _live(request).set_presence(p, data.presence)))


@bp.get("/agents")
@endpoint(
    summary="Support staff with presence, tiers, capacity and current chats",
    description="Supervisors and admins see everyone; agents see the agents of their own tiers.",
    responses={200: AgentList, 401: None, 403: None},
)
async def list_agents(request: Request) -> HTTPResponse:
    p = await caller(request)
    _staff_only(p, "agents are listed for support staff")
    async with request.app.ctx.sessions() as session:
        return reply(views.agent_list(await live_svc.visible_agents(session, p)))
