"""Chats that are over or were handled: the console's «Recientes» and «Cerradas», with search.

«Recientes» are the conversations the caller took (claimed) at some point, whatever their state
now; «Cerradas» the closed conversations the caller may read (`services.access`: an agent its
tiers and the lower ones, and those it handled; supervisors and admins every one). A search term
matches the customer's name or code, the contact's name, the ticket number or any message text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Contact, Conversation, ConversationEvent, Customer, Message
from promptlink.services.auth import Forbidden, Principal
from promptlink.services.errors import InvalidInput
from promptlink.services.handoff import last_customer_messages
from promptlink.services.search import ESCAPE, contains_any, like_pattern
from promptlink.vocabulary import TIERS

HISTORY_STATUSES = ("recent", "closed")
MAX_QUERY = 100
MAX_LIMIT = 50
MAX_OFFSET = 100_000


@dataclass(frozen=True)
class HistoryItem:
    conversation: Conversation
    last_message: str | None  # the customer's last message, previewed


@dataclass(frozen=True)
class HistoryPage:
    items: Sequence[HistoryItem]
    total: int


def _claimed_by(agent_id: int) -> ColumnElement[bool]:
    return exists().where(
        ConversationEvent.conversation_id == Conversation.id,
        ConversationEvent.kind == "claimed",
        ConversationEvent.agent_id == agent_id,
    )


def _visible(principal: Principal) -> ColumnElement[bool] | None:
    """What an agent may read (None: everything, for supervisors and admins)."""
    if principal.role in ("supervisor", "admin"):
        return None
    tiers = [t for t in TIERS if principal.can_see_tier(t)]
    conditions: list[ColumnElement[bool]] = [Conversation.tier.in_(tiers)]
    if principal.agent_id is not None:
        conditions += [Conversation.agent_id == principal.agent_id, _claimed_by(principal.agent_id)]
    return or_(*conditions)


def _matches(text: str) -> ColumnElement[bool]:
    said = exists().where(
        Message.conversation_id == Conversation.id,
        Message.text.ilike(like_pattern(text), escape=ESCAPE),
    )
    return or_(contains_any(text, Customer.name, Customer.code, Contact.name, Conversation.ticket_number), said)


async def conversation_history(
    *, session: AsyncSession, principal: Principal, status: str, q: str | None, limit: int, offset: int
) -> HistoryPage:
    """`status` «recent» (taken by the caller) or «closed» (visible to the caller), most recent first,
    optionally matching `q`; support staff only."""
    if not principal.is_staff or principal.agent_id is None:
        raise Forbidden("conversation history is for support staff", public="No tiene permiso para esta acción.")
    if status not in HISTORY_STATUSES:
        raise InvalidInput(
            f"status must be one of {HISTORY_STATUSES}", public="El filtro de conversaciones no es válido."
        )
    text = (q or "").strip()
    if len(text) > MAX_QUERY:
        raise InvalidInput(
            f"q must be at most {MAX_QUERY} characters",
            public=f"La búsqueda admite como máximo {MAX_QUERY} caracteres.",
        )
    if not 1 <= limit <= MAX_LIMIT or not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput("limit or offset out of range", public="La página pedida no es válida.")
    conditions: list[ColumnElement[bool]] = []
    if status == "recent":
        conditions.append(_claimed_by(principal.agent_id))
    else:
        conditions.append(Conversation.mode == "closed")
        visible = _visible(principal)
        if visible is not None:
            conditions.append(visible)
    if text:
        conditions.append(_matches(text))
    base = (
        select(Conversation)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .outerjoin(Contact, Contact.id == Conversation.contact_id)
        .where(*conditions)
    )
    total = await session.scalar(select(func.count()).select_from(base.with_only_columns(Conversation.id).subquery()))
    latest = func.coalesce(
        Conversation.closed_at, Conversation.claimed_at, Conversation.queued_at, Conversation.created_at
    )
    rows = list(
        (await session.scalars(base.order_by(latest.desc(), Conversation.id).limit(limit).offset(offset))).unique()
    )
    texts = await last_customer_messages(session=session, conversation_ids=[c.id for c in rows])
    return HistoryPage(items=[HistoryItem(c, texts.get(c.id)) for c in rows], total=int(total or 0))
