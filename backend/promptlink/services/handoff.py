"""Handing a chat from the assistant to a human: the tier queues, positions and waits.

A handoff puts the conversation in its tier's queue (mode `queued`); customer messages
then stop going to the assistant (see `ChatGateway.customer_message`). The customer is
told, in Spanish, their position and an estimated wait: the average wait of the tier's
recently claimed chats (or a configured default) times the position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from promptlink.models import Conversation, ConversationEvent, Message, Ticket
from promptlink.services.conversations import append_message
from promptlink.services.errors import DomainError, InvalidInput, NotFound
from promptlink.vocabulary import TIER_NAMES, TIERS

MAX_REASON = 300
# How many recently claimed chats of a tier the estimated wait averages over.
WAIT_SAMPLE = 20


class HandoffRefused(DomainError):
    """The conversation cannot be queued in its current state (with an agent, or closed)."""

    status = 409


@dataclass(frozen=True)
class QueuePlace:
    """Where a handed-off conversation waits. `notice` is the system message this call
    stored (None when the conversation was already queued: nothing new to announce)."""

    conversation_id: str
    mode: str
    tier: str
    position: int
    eta_seconds: int
    notice: Message | None = None
    notice_text: str | None = None


@dataclass(frozen=True)
class QueuedChat:
    """A conversation waiting in a tier's queue, for the staff's queue view."""

    conversation: Conversation
    position: int
    waiting_seconds: int
    priority: int | None = None  # its ticket's, once `with_previews` read it
    last_message: str | None = None  # the customer's last words, cut to PREVIEW_CHARS


PREVIEW_CHARS = 140


def queue_notice(*, tier: str) -> str:
    """What the customer reads when queued (Spanish), kept in the transcript.

    The place and the estimated wait change while the chat waits, so they are not written here
    (a stored «Posición 2, 10 min» goes stale): the widget shows them live from the `handoff`
    events, in one place under its header.
    """
    return (
        f"Le estamos comunicando con un especialista de {TIER_NAMES[tier]}. "
        "Mientras espera, le indicamos su lugar en la cola y el tiempo estimado."
    )


async def request_handoff(
    *,
    session: AsyncSession,
    conversation_id: str,
    tier: Any,
    reason: Any,
    ticket_number: Any,
    now: datetime,
    default_wait_seconds: int,
    store_notice: bool = True,
    author: str = "",
) -> QueuePlace:
    """Queue the conversation for a human of `tier` and store the customer's notice.

    With `store_notice=False` the notice is only returned (`notice_text`) for the caller to
    post once the assistant's turn in progress has been stored, so it reads after it.

    Idempotent: a conversation already queued keeps its place, and the answer is its
    current position (no second notice).
    """
    reason = _checked_request(tier, reason, ticket_number)
    conversation = await lock_conversation(session, conversation_id)
    if conversation.mode == "queued" and conversation.tier is not None:
        return await queue_place(session, conversation, default_wait_seconds=default_wait_seconds)
    if conversation.mode == "human":
        raise HandoffRefused(
            f"conversation {conversation_id} is already with an agent",
            public="La conversación ya está atendida por un especialista.",
        )
    if conversation.mode == "closed":
        raise HandoffRefused(f"conversation {conversation_id} is closed", public="La conversación está cerrada.")
    if ticket_number:
        await _check_ticket(session, conversation, ticket_number.strip())
    await _enqueue(session, conversation, tier=tier, reason=reason, ticket_number=ticket_number, now=now, author=author)
    place = await queue_place(session, conversation, default_wait_seconds=default_wait_seconds)
    text = queue_notice(tier=place.tier)
    if not store_notice:
        return replace(place, notice_text=text)
    notice = await append_message(session=session, conversation_id=conversation.id, role="system", text=text)
    return replace(place, notice=notice.message, notice_text=text)


def _checked_request(tier: Any, reason: Any, ticket_number: Any) -> str:
    """The handoff's reason (None is none) once tier, reason and ticket number have the right form."""
    if tier not in TIERS:
        raise InvalidInput("tier must be L1, L2 or L3", public="El nivel de soporte no es válido.")
    if reason is None:
        reason = ""
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        raise InvalidInput(
            f"reason must be a string of at most {MAX_REASON} characters", public="El motivo no es válido."
        )
    if ticket_number is not None and not isinstance(ticket_number, str):
        raise InvalidInput("ticket must be a ticket number or null", public="El tiquete no existe.")
    return reason


async def _enqueue(
    session: AsyncSession,
    conversation: Conversation,
    *,
    tier: str,
    reason: str,
    ticket_number: str | None,
    now: datetime,
    author: str,
) -> None:
    # Queued even when nobody of the tier is online: the chat waits for the next agent of
    # that tier (the caller tells the customer how they will be contacted meanwhile).
    conversation.mode = "queued"
    conversation.tier = tier
    conversation.queued_at = now
    conversation.claimed_at = None
    conversation.handoff_reason = reason.strip()
    conversation.ticket_number = ticket_number.strip() if ticket_number else None
    conversation.agent = None
    await session.flush()
    session.add(
        ConversationEvent(
            conversation_id=conversation.id,
            kind="queued",
            tier=tier,
            author=author,
            text=conversation.handoff_reason,
            created_at=now,
        )
    )


async def lock_conversation(session: AsyncSession, conversation_id: str) -> Conversation:
    # FOR UPDATE: two handoffs of one conversation at once on PostgreSQL queue it once
    # (SQLite write transactions are serialised already).
    conversation = None
    if len(conversation_id) <= 36:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.id == conversation_id).with_for_update(of=Conversation)
        )
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found", public="La conversación no existe.")
    return conversation


async def _check_ticket(session: AsyncSession, conversation: Conversation, number: str) -> None:
    """The ticket must exist and, when the conversation has a customer, be that customer's."""
    ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None or (conversation.customer_id is not None and ticket.customer_id != conversation.customer_id):
        raise InvalidInput(f"ticket {number} not found for this conversation", public="El tiquete no existe.")


async def queue_place(session: AsyncSession, conversation: Conversation, *, default_wait_seconds: int) -> QueuePlace:
    assert conversation.tier is not None and conversation.queued_at is not None
    ahead = await session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(
            Conversation.mode == "queued",
            Conversation.tier == conversation.tier,
            or_(
                Conversation.queued_at < conversation.queued_at,
                and_(Conversation.queued_at == conversation.queued_at, Conversation.id < conversation.id),
            ),
        )
    )
    position = 1 + int(ahead or 0)
    wait = await average_wait_seconds(session=session, tier=conversation.tier, default=default_wait_seconds)
    return QueuePlace(
        conversation_id=conversation.id,
        mode=conversation.mode,
        tier=conversation.tier,
        position=position,
        eta_seconds=round(wait * position),
    )


async def average_wait_seconds(*, session: AsyncSession, tier: str, default: int) -> float:
    """The average queue wait of the tier's last `WAIT_SAMPLE` claimed chats; `default` when none."""
    rows = await session.execute(
        select(Conversation.queued_at, Conversation.claimed_at)
        .where(Conversation.tier == tier, Conversation.claimed_at.is_not(None), Conversation.queued_at.is_not(None))
        .order_by(Conversation.claimed_at.desc())
        .limit(WAIT_SAMPLE)
    )
    # Differences are taken here, not in SQL: date arithmetic differs between SQLite and PostgreSQL.
    waits = [max(0.0, (claimed - queued).total_seconds()) for queued, claimed in rows.tuples() if queued and claimed]
    return sum(waits) / len(waits) if waits else float(default)


async def queued_chats(*, session: AsyncSession, tiers: Sequence[str], now: datetime) -> dict[str, list[QueuedChat]]:
    """The conversations waiting in each of `tiers`, first in line first."""
    queues: dict[str, list[QueuedChat]] = {tier: [] for tier in tiers}
    if not tiers:
        return queues
    rows = await session.scalars(
        select(Conversation)
        .where(Conversation.mode == "queued", Conversation.tier.in_(list(tiers)))
        .order_by(Conversation.queued_at, Conversation.id)
    )
    for conversation in rows:
        queue = queues[conversation.tier or ""]
        queued_at = conversation.queued_at or now
        queue.append(
            QueuedChat(
                conversation=conversation,
                position=len(queue) + 1,
                waiting_seconds=max(0, int((now - queued_at).total_seconds())),
            )
        )
    return queues


def preview_text(text: str) -> str:
    """A message cut to PREVIEW_CHARS on one line, «…» when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1].rstrip() + "…"


async def last_customer_messages(*, session: AsyncSession, conversation_ids: Sequence[str]) -> dict[str, str]:
    """Each conversation's last customer message, previewed (`preview_text`)."""
    if not conversation_ids:
        return {}
    last = (
        select(Message.conversation_id, func.max(Message.seq).label("seq"))
        .where(Message.conversation_id.in_(list(conversation_ids)), Message.role == "customer")
        .group_by(Message.conversation_id)
        .subquery()
    )
    rows = await session.execute(
        select(Message.conversation_id, Message.text).join(
            last, and_(Message.conversation_id == last.c.conversation_id, Message.seq == last.c.seq)
        )
    )
    return {cid: preview_text(text or "") for cid, text in rows.tuples()}


async def with_previews(*, session: AsyncSession, queues: dict[str, list[QueuedChat]]) -> dict[str, list[QueuedChat]]:
    """The queues with each chat's ticket priority and the customer's last message (the console's
    waiting cards: two chats of one contact must be told apart)."""
    items = [item for chats in queues.values() for item in chats]
    numbers = {i.conversation.ticket_number for i in items if i.conversation.ticket_number}
    priorities: dict[str, int] = {}
    if numbers:
        rows = await session.execute(select(Ticket.number, Ticket.priority).where(Ticket.number.in_(numbers)))
        priorities = {number: priority for number, priority in rows.tuples() if number}
    texts = await last_customer_messages(session=session, conversation_ids=[i.conversation.id for i in items])
    return {
        tier: [
            replace(
                item,
                priority=priorities.get(item.conversation.ticket_number or ""),
                last_message=texts.get(item.conversation.id),
            )
            for item in chats
        ]
        for tier, chats in queues.items()
    }
