"""Who may read or act on a conversation or a ticket: the one ownership check of the API.

Every conversation and ticket endpoint (REST, and the agent socket) loads its conversation or
ticket through `conversation_for` / `ticket_for`, then applies the action's own rule (a tier
the agent works, the assigned agent, support staff only...). The read rule:

- A customer (widget identity, or the action server on behalf of a contact) reads its own
  company's tickets, and acts only on its own chats: the conversation of its company and of
  its contact (a chat is a person's, a ticket the company's), or the one conversation its
  socket or conversation token proved (`Principal.conversation_id`). Anything else answers
  404, exactly as an id that does not exist: a customer never learns that another company's
  conversation or ticket exists.
- Supervisors and administrators read everything; the action server's plain service token
  reads as before (its own checks live in `services.auth`).
- An agent reads the conversations and tickets of its own tiers and of the lower ones
  (`Principal.can_see_tier`), and those it handles or handled: assigned to it now, assigned
  to it once, written in by it, or whose chat it took. Staff are told 403 (they know the
  numbers exist), with the reason in `detail`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Conversation, ConversationEvent, Ticket, TicketEvent
from promptlink.services.auth import Forbidden, Principal
from promptlink.services.errors import NotFound

CONVERSATION_NOT_FOUND = "La conversación no existe."
TICKET_NOT_FOUND = "El tiquete no existe."
FORBIDDEN = "No tiene permiso para esta acción."
MAX_CONVERSATION_ID = 36  # a UUID; anything longer does not exist


class NotYours(Forbidden):
    """Staff asking for a conversation or ticket outside what they may see or work (403)."""


def owns_conversation(conversation: Conversation, *, customer_id: int | None, contact_id: int | None) -> bool:
    """A customer's own chat: of its company and, once the chat names a contact, of that contact."""
    if customer_id is None or conversation.customer_id != customer_id:
        return False
    return conversation.contact_id is None or contact_id is None or conversation.contact_id == contact_id


def _customer_may_read_conversation(p: Principal, conversation: Conversation) -> bool:
    if p.conversation_id is not None and p.conversation_id == conversation.id:
        return True
    return p.customer_id is not None and owns_conversation(
        conversation, customer_id=p.customer_id, contact_id=p.contact_id
    )


async def _agent_handled_conversation(session: AsyncSession, p: Principal, conversation: Conversation) -> bool:
    if p.agent_id is None:
        return False
    if conversation.agent_id == p.agent_id:
        return True
    claimed = await session.scalar(
        select(ConversationEvent.id)
        .where(
            ConversationEvent.conversation_id == conversation.id,
            ConversationEvent.agent_id == p.agent_id,
            ConversationEvent.kind == "claimed",
        )
        .limit(1)
    )
    return claimed is not None


async def may_read_conversation(session: AsyncSession, p: Principal, conversation: Conversation) -> bool:
    if p.role == "customer":
        return _customer_may_read_conversation(p, conversation)
    if p.role in ("supervisor", "admin", "service"):
        return True
    if p.role != "agent":
        return False
    if conversation.tier is not None and p.can_see_tier(conversation.tier):
        return True
    return await _agent_handled_conversation(session, p, conversation)


async def conversation_for(
    session: AsyncSession, p: Principal, conversation_id: object, *, lock: bool = False
) -> Conversation:
    """The conversation if `p` may see it (locked FOR UPDATE with `lock`): 404 for a customer
    when it is not theirs (as if it did not exist), 403 for staff outside their tiers."""
    conversation = None
    if isinstance(conversation_id, str) and 0 < len(conversation_id) <= MAX_CONVERSATION_ID:
        query = select(Conversation).where(Conversation.id == conversation_id)
        if lock:
            # Two operations on one conversation at once are serialised (PostgreSQL; SQLite
            # serialises writers already).
            query = query.with_for_update(of=Conversation)
        conversation = await session.scalar(query)
    shown = str(conversation_id)[:64]
    if conversation is None:
        raise NotFound(f"conversation {shown} not found", public=CONVERSATION_NOT_FOUND)
    if await may_read_conversation(session, p, conversation):
        return conversation
    if not p.is_staff:
        # The same answer as for an unknown id, `detail` included: nothing tells that it exists.
        raise NotFound(f"conversation {shown} not found", public=CONVERSATION_NOT_FOUND)
    raise NotYours(f"conversation {shown} is not in the tiers {p.email} may see", public=FORBIDDEN)


async def _agent_handled_ticket(session: AsyncSession, p: Principal, ticket: Ticket) -> bool:
    if p.agent_id is None:
        return False
    if ticket.assignee_id == p.agent_id:
        return True
    # Assigned to it once, or written in by it (an update, a note, a transfer to another tier).
    events = await session.execute(
        select(TicketEvent.kind, TicketEvent.author, TicketEvent.data).where(
            TicketEvent.ticket_id == ticket.id,
            or_(TicketEvent.kind == "assigned", TicketEvent.author == p.email),
        )
    )
    for kind, author, data in events.tuples():
        if author == p.email or (kind == "assigned" and isinstance(data, dict) and data.get("agent") == p.email):
            return True
    # Its chat: the conversation the ticket came from, or one handed off with the ticket's number.
    chats = select(Conversation.id).where(Conversation.ticket_number == ticket.number)
    conditions: list[ColumnElement[bool]] = [ConversationEvent.conversation_id.in_(chats)]
    if ticket.conversation_id is not None:
        conditions.append(ConversationEvent.conversation_id == ticket.conversation_id)
    handled = await session.scalar(
        select(ConversationEvent.id)
        .where(ConversationEvent.agent_id == p.agent_id, ConversationEvent.kind == "claimed", or_(*conditions))
        .limit(1)
    )
    return handled is not None


async def may_read_ticket(session: AsyncSession, p: Principal, ticket: Ticket) -> bool:
    if p.role == "customer":
        return p.customer_id is not None and ticket.customer_id == p.customer_id
    if p.role in ("supervisor", "admin", "service"):
        return True
    if p.role != "agent":
        return False
    if p.can_see_tier(ticket.tier):
        return True
    return await _agent_handled_ticket(session, p, ticket)


async def ticket_for(session: AsyncSession, p: Principal, number: object) -> Ticket:
    """The ticket if `p` may read it: 404 for a customer when it is another company's (as if it did
    not exist), 403 for an agent outside its tiers that never handled it."""
    ticket = None
    if isinstance(number, str) and 0 < len(number) <= 32:
        ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
    shown = str(number)[:64]
    if ticket is None:
        raise NotFound(f"ticket {shown} not found", public=TICKET_NOT_FOUND)
    if await may_read_ticket(session, p, ticket):
        return ticket
    if not p.is_staff:
        raise NotFound(f"ticket {shown} not found", public=TICKET_NOT_FOUND)  # as an unknown number
    raise NotYours(
        f"{p.email} may not read ticket {shown} of tier {ticket.tier}",
        public=f"El tiquete pertenece al nivel {ticket.tier}.",
    )


def require_own_customer(p: Principal, customer_id: int | None, *, what: str, public: str) -> None:
    """Company data (RMAs, plans, devices, the customer record): a customer reads only its own
    company's; another company's answers 404, as if it did not exist."""
    if p.role == "customer" and (p.customer_id is None or customer_id != p.customer_id):
        raise NotFound(f"{what} not found", public=public)  # as an unknown one
